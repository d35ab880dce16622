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
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	err := runEnv(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cliEnv{hup: hup})
	signal.Stop(hup)
	stop()
	if err != nil {
		if code, ok := exitCode(err); ok {
			os.Exit(code)
		}
		fmt.Fprintln(os.Stderr, "tanglegate:", err)
		os.Exit(1)
	}
}
