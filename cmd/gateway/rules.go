package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/rules"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Dry-run rules: test and replay them against recorded readings",
	}
	cmd.AddCommand(newRulesTestCmd("test"), newRulesTestCmd("replay"))
	return cmd
}

func newRulesTestCmd(use string) *cobra.Command {
	var cfgPath, readings, glob string
	c := &cobra.Command{
		Use:   use,
		Short: "Replay recorded readings through the rules and print what fires when, without acting",
		Long: `Replays a CSV file of readings (time,device,point,value; time as RFC 3339 or Unix
seconds) through the rules of the configuration, advancing a virtual clock so that
for/cooldown/absent_for timers run, and prints one line per event:

  2026-11-25T12:00:40Z  pump1-overheat  fired  pump1-overheat#1 pump1.temperature=85  -> notify cooling-unit boost

Nothing is sent: no MAM messages, no writes, no MQTT.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			if glob == "" {
				glob = cfg.Rules
			}
			rs, err := rules.LoadFiles(glob, rules.EnvFromConfig(cfg))
			if err != nil {
				return err
			}
			f, err := os.Open(readings)
			if err != nil {
				return fmt.Errorf("open readings: %w", err)
			}
			defer f.Close()
			out := cmd.OutOrStdout()
			n := 0
			err = rules.Replay(rs, f, func(e rules.Event) {
				n++
				fmt.Fprintln(out, rules.FormatEvent(e))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d rules, %d events\n", len(rs), n)
			return nil
		},
	}
	c.Flags().StringVar(&cfgPath, "config", defaultConfigPath, "gateway configuration file")
	c.Flags().StringVar(&readings, "readings", "", "CSV file of recorded readings (time,device,point,value)")
	c.Flags().StringVar(&glob, "rules", "", "rules files glob (default: the rules setting of the configuration)")
	_ = c.MarkFlagRequired("readings")
	return c
}
