// Command tanglegate is the Tanglegate edge gateway: field-bus adapters, a local
// node of the legacy IOTA tangle, proof-of-work, MAM helper reactions and a rules
// engine, in one static binary. Run `tanglegate --help` for the command tree.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if code, ok := exitCode(err); ok {
			os.Exit(code)
		}
		fmt.Fprintln(os.Stderr, "tanglegate:", err)
		os.Exit(1)
	}
}
