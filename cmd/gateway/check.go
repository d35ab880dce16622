package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/rules"
)

// defaultConfigPath is where the gateway's configuration lives on a device.
const defaultConfigPath = "/etc/tanglegate/gateway.yaml"

func newCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and the rule files",
		Long: `Check reads the configuration and the rule files it names and prints every
problem, one per line, as file:line:col: field.path: message, then exits 1.
When there is none it prints "ok: N devices, M rules files" and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.OutOrStdout(), path)
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultConfigPath, "configuration file")
	return cmd
}

// runCheck validates the configuration at path and its rule files, printing
// each problem on its own line to out.
func runCheck(out io.Writer, path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		printProblems(out, err)
		return silentExit{code: 1}
	}
	files, errs := checkRules(cfg)
	if len(errs) > 0 {
		printProblems(out, errors.Join(errs...))
		return silentExit{code: 1}
	}
	_, err = fmt.Fprintf(out, "ok: %d devices, %d rules files\n", len(cfg.Devices), files)
	return err
}

// printProblems prints every *config.FieldError in err on its own line, or
// err itself when it holds none (an unreadable file).
func printProblems(out io.Writer, err error) {
	fes := config.FieldErrors(err)
	if len(fes) == 0 {
		fmt.Fprintln(out, err)
		return
	}
	for _, fe := range fes {
		fmt.Fprintln(out, fe)
	}
}

// checkRules compiles the rule files matched by cfg.Rules against the
// configured devices, points and helpers, and returns how many files there
// are and every problem found in them (as file:line:col errors).
func checkRules(cfg *config.Config) (files int, errs []error) {
	if cfg.Rules == "" {
		return 0, nil
	}
	matches, err := filepath.Glob(cfg.Rules)
	if err != nil { // Validate checked the pattern; a second guard costs nothing
		return 0, []error{&config.FieldError{Path: "rules", Msg: fmt.Sprintf("invalid glob %q: %v", cfg.Rules, err)}}
	}
	if _, err := rules.LoadFiles(cfg.Rules, rules.EnvFromConfig(cfg)); err != nil {
		errs = append(errs, err)
	}
	return len(matches), errs
}
