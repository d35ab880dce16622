package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
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

// checkRules checks the rule files matched by cfg.Rules and returns how many
// there are and every problem found in them.
//
// For now it checks that the glob is valid and that each file is a YAML list
// of mappings (one per rule). The rules engine hooks in here: replace the call
// to checkRuleFile with its own validation of a file against cfg (unknown
// device points, bad expressions), returning *config.FieldError values with
// File, Line and Column set so that they print as file:line:col.
func checkRules(cfg *config.Config) (files int, errs []error) {
	if cfg.Rules == "" {
		return 0, nil
	}
	matches, err := filepath.Glob(cfg.Rules)
	if err != nil { // Validate checked the pattern; a second guard costs nothing
		return 0, []error{&config.FieldError{Path: "rules", Msg: fmt.Sprintf("invalid glob %q: %v", cfg.Rules, err)}}
	}
	for _, file := range matches {
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, &config.FieldError{File: file, Msg: fmt.Sprintf("read rules: %v", err)})
			continue
		}
		errs = append(errs, checkRuleFile(file, data)...)
	}
	return len(matches), errs
}

// checkRuleFile checks that a rules file is a YAML list of mappings.
func checkRuleFile(file string, data []byte) (errs []error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		fe := &config.FieldError{File: file, Msg: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			fe.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return []error{fe}
	}
	var bodies []ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, comment := doc.Body.(*ast.CommentGroupNode); comment {
			continue
		}
		bodies = append(bodies, doc.Body)
	}
	if len(bodies) == 0 {
		return nil // an empty file holds no rules
	}
	at := func(n ast.Node, path, format string, args ...any) *config.FieldError {
		fe := &config.FieldError{File: file, Path: path, Msg: fmt.Sprintf(format, args...)}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
		}
		return fe
	}
	if len(bodies) > 1 {
		return []error{at(bodies[1], "", "want one YAML document, found another here")}
	}
	seq, ok := bodies[0].(*ast.SequenceNode)
	if !ok {
		return []error{at(bodies[0], "", "want a list of rules (- rule: name ...), got %s", bodies[0].Type().YAMLName())}
	}
	for i, item := range seq.Values {
		if _, ok := item.(*ast.MappingNode); !ok {
			errs = append(errs, at(item, fmt.Sprintf("[%d]", i), "want a rule (a mapping), got %s", item.Type().YAMLName()))
		}
	}
	return errs
}
