package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// silentExit is returned by commands that have already printed their verdict
// (such as `tools verify` on an invalid bundle) and only need a non-zero status.
type silentExit struct{ code int }

func (e silentExit) Error() string { return "exit status " + strconv.Itoa(e.code) }

// exitCode reports the process status a command asked for without an error message.
func exitCode(err error) (int, bool) {
	var s silentExit
	if errors.As(err, &s) {
		return s.code, true
	}
	return 0, false
}

// cliEnv is what main gives the commands besides their arguments.
type cliEnv struct {
	// hup delivers SIGHUP (reload requests) to `run`; nil in tests.
	hup <-chan os.Signal
}

// run builds the command tree and executes it with args. Tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, stdin, stdout, stderr, cliEnv{})
}

// runEnv is run with the process environment that only main has.
func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env cliEnv) error {
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func newRootCmd(env cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "tanglegate",
		Short: "Edge gateway: field devices, a local tangle node, PoW, MAM reactions and rules",
		Long: `Tanglegate polls field devices (Modbus, OPC UA, serial, MQTT), gives each one a
tangle identity, runs a local node of the legacy IOTA tangle, does proof-of-work
locally and sends MAM-encrypted reactions to helper devices when a rule fires.

Start with 'tanglegate lab' to watch a simulated plant, or 'tanglegate tools --help'
for the ternary tools that work on trytes from stdin.`,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints the error once; silentExit prints nothing
	}
	// Subcommands: one constructor per file in this directory.
	root.AddCommand(
		newVersionCmd(),
		newRunCmd(env),
		newLabCmd(),
		newCheckCmd(),
		newToolsCmd(),
		newBenchCmd(),
		newNodeCmd(),
		newProbeCmd(),
		newMamCmd(),
		newRulesCmd(),
		newTrustCmd(),
		newIdentityCmd(),
		newSeedCmd(),
		newHelperCmd(),
		newSnapshotCmd(),
	)
	return root
}
