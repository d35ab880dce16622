package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tanglegate/gateway/tangle/tx"
)

func newToolsDecodeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "decode",
		Short: "Decode transaction trytes (one per line) to JSON, one object per line",
		Long: `Read legacy transactions, 2673 trytes per line, from stdin and print one JSON
object per line with the field names legacy IOTA clients use: hash,
signatureMessageFragment, address, value, obsoleteTag, timestamp, currentIndex,
lastIndex, bundle, trunkTransaction, branchTransaction, tag, attachmentTimestamp,
attachmentTimestampLowerBound, attachmentTimestampUpperBound, nonce.
The hash is Curl-P-81 of the trytes. Blank lines are skipped. A malformed line
stops the command with an error naming the line and the field.

Example:
  tanglegate tools decode < txs.trytes | jq -r .address`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			return eachLine(cmd.InOrStdin(), func(n int, line string) error {
				t, err := tx.Parse(line)
				if err != nil {
					return fmt.Errorf("line %d: %w", n, err)
				}
				return enc.Encode(t)
			})
		},
	}
}
