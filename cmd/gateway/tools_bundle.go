package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// bundleTransfer is one line of `tools bundle` input.
type bundleTransfer struct {
	Address string `json:"address"`
	Value   int64  `json:"value"`
	Tag     string `json:"tag"`
	Message string `json:"message"` // ASCII text, encoded two trytes per byte
	Trytes  string `json:"messageTrytes"`
}

func newToolsBundleCmd() *cobra.Command {
	var (
		seedFile  string
		inputs    []string
		remainder string
		timestamp int64
	)
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Build a bundle from transfers (JSON lines) and print its transactions, ready for PoW",
		Long: `Read transfers from stdin, one JSON object per line:

  {"address": "<81 or 90 trytes>", "value": 0, "tag": "TANGLEGATE", "message": "hello"}

("messageTrytes" instead of "message" gives the message as trytes), lay them out
as a bundle (messages longer than one transaction span several), finalize it
(bundle hash without M in its normalized form) and print the transactions as
trytes, one per line, tail (currentIndex 0) first. Trunk, branch, attachment
fields and nonce are left empty for 'tools pow' or a node's attachToTangle.

Value transfers need inputs: --seed-file F (or - for the first line of stdin)
and one --input INDEX:SECURITY:BALANCE per input address of that seed; the rest
of the balance goes to --remainder. The seed is never printed.

Example:
  echo '{"address":"'$ADDR'","message":"hello plant"}' | tanglegate tools bundle`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := cmd.InOrStdin()
			var seed string
			if len(inputs) > 0 {
				s, err := readSeed(seedFile, in)
				if err != nil {
					return err
				}
				seed = s
			}
			b := bundle.Builder{Timestamp: timestamp, Remainder: remainder}
			if b.Timestamp == 0 {
				b.Timestamp = time.Now().Unix()
			}
			var ins []bundle.Input
			for _, spec := range inputs {
				parts := strings.Split(spec, ":")
				if len(parts) != 3 {
					return fmt.Errorf("--input %q: want INDEX:SECURITY:BALANCE", spec)
				}
				idx, err1 := strconv.ParseUint(parts[0], 10, 64)
				sec, err2 := strconv.Atoi(parts[1])
				bal, err3 := strconv.ParseInt(parts[2], 10, 64)
				if err1 != nil || err2 != nil || err3 != nil {
					return fmt.Errorf("--input %q: want INDEX:SECURITY:BALANCE (numbers)", spec)
				}
				input, err := bundle.InputFromSeed(seed, idx, sec, bal)
				if err != nil {
					return err
				}
				ins = append(ins, input)
				b.AddInput(input)
			}
			n := 0
			err := eachLine(in, func(line int, text string) error {
				var t bundleTransfer
				dec := json.NewDecoder(strings.NewReader(text))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&t); err != nil {
					return fmt.Errorf("line %d: %w", line, err)
				}
				msg := t.Trytes
				if t.Message != "" {
					if msg != "" {
						return fmt.Errorf("line %d: give message or messageTrytes, not both", line)
					}
					m, err := trinary.ASCIIToTrytes(t.Message)
					if err != nil {
						return fmt.Errorf("line %d: message: %w", line, err)
					}
					msg = m
				}
				b.AddOutput(bundle.Transfer{Address: t.Address, Value: t.Value, Tag: t.Tag, Message: msg})
				n++
				return nil
			})
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("no transfers on stdin (one JSON object per line)")
			}
			bd, err := b.Build()
			if err != nil {
				return err
			}
			if len(ins) > 0 {
				if err := bundle.SignInputs(bd, seed, ins); err != nil {
					return err
				}
			}
			trytes, err := bundle.Trytes(bd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, t := range trytes {
				if _, err := fmt.Fprintln(out, t); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&seedFile, "seed-file", "", "file holding the seed of the inputs (- for the first line of stdin)")
	f.StringArrayVar(&inputs, "input", nil, "input address of the seed as INDEX:SECURITY:BALANCE (repeatable)")
	f.StringVar(&remainder, "remainder", "", "address receiving the rest of the inputs' balance")
	f.Int64Var(&timestamp, "timestamp", 0, "bundle timestamp, Unix seconds (default now)")
	return cmd
}
