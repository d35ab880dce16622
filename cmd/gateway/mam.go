package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// defaultDB is the gateway's bbolt file; the mam commands use its "mam" bucket.
const defaultDB = "/var/lib/tanglegate/gateway.db"

func newMamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mam",
		Short: "MAM v0 channels: create, publish, fetch, listen",
		Long: `MAM v0 (Masked Authenticated Messaging) channels, compatible with @iota/mam.js.

Channel states live in the "mam" bucket of the gateway database (--db). A
message's key index is saved (fsynced) before the message is sent, so a crash
can skip an index but never reuse one.`,
	}
	cmd.AddCommand(newMamChannelCmd(), newMamPublishCmd(), newMamFetchCmd(), newMamListenCmd())
	return cmd
}

// openMamStore opens the bbolt file at path and the mam store on it.
func openMamStore(path string) (*bbolt.DB, *mam.Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	s, err := mam.NewStore(db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, s, nil
}

// readSideKey reads a side key (trytes, or ASCII converted to trytes) from a file.
func readSideKey(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read side key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if trinary.ValidTrytes(k) != nil {
		if k, err = trinary.ASCIIToTrytes(k); err != nil {
			return "", fmt.Errorf("side key file %s: %w", path, err)
		}
	}
	if len(k) > trinary.HashTrytes {
		return "", fmt.Errorf("side key file %s: %d trytes, at most 81", path, len(k))
	}
	return k, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func newMamChannelCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "channel", Short: "Manage MAM channels"}
	var name, modeS, sideFile, seedFile, dbPath string
	var security, treeSize int
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Create a channel (random seed unless --seed-file) and print its first root",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := mam.ParseMode(modeS)
			if err != nil {
				return err
			}
			side, err := readSideKey(sideFile)
			if err != nil {
				return err
			}
			var seed string
			if seedFile != "" {
				b, err := os.ReadFile(seedFile)
				if err != nil {
					return fmt.Errorf("read seed: %w", err)
				}
				seed = strings.TrimSpace(string(b))
			} else if seed, err = identity.NewSeed(); err != nil {
				return err
			}
			c, err := mam.NewChannel(seed, mode, side, security)
			if err != nil {
				return err
			}
			if c, err = c.WithTreeSize(treeSize); err != nil {
				return err
			}
			root, err := c.Root()
			if err != nil {
				return err
			}
			addr, _ := mam.Address(root, mode)
			db, s, err := openMamStore(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := s.Create(name, c); err != nil {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"channel": name, "mode": mode.String(), "security": security, "tree_size": treeSize, "root": root, "address": addr})
		},
	}
	newCmd.Flags().StringVar(&name, "name", "", "channel name (required)")
	newCmd.Flags().StringVar(&modeS, "mode", "public", "public, private or restricted")
	newCmd.Flags().StringVar(&sideFile, "side-key-file", "", "file holding the side key (restricted mode)")
	newCmd.Flags().StringVar(&seedFile, "seed-file", "", "file holding an 81-tryte seed (default: random)")
	newCmd.Flags().IntVar(&security, "security", 1, "security level 1..3")
	newCmd.Flags().IntVar(&treeSize, "tree-size", 1, "leaves per Merkle tree (a power of two)")
	newCmd.Flags().StringVar(&dbPath, "db", defaultDB, "gateway database")
	_ = newCmd.MarkFlagRequired("name")
	cmd.AddCommand(newCmd)
	return cmd
}

func newMamPublishCmd() *cobra.Command {
	var name, nodeURL, dbPath, tag string
	var raw, resend bool
	var mwm int
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish the message on stdin; prints root, address and bundle hash",
		Long: `Publish the message on stdin (ASCII, or trytes with --trytes) to the channel.
The channel state is saved before anything is sent. --resend sends the last
message again unchanged (safe after a failed send).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, s, err := openMamStore(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			var msg mam.Message
			if resend {
				var ok bool
				if msg, ok, err = s.Last(name); err != nil {
					return err
				} else if !ok {
					return fmt.Errorf("channel %q has no message to resend", name)
				}
			} else {
				in, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
				if err != nil {
					return fmt.Errorf("read message: %w", err)
				}
				text := strings.TrimRight(string(in), "\r\n")
				if !raw {
					if text, err = trinary.ASCIIToTrytes(text); err != nil {
						return fmt.Errorf("message: %w (use --trytes for tryte input)", err)
					}
				}
				if msg, err = s.Next(name, text); err != nil {
					return err
				}
			}
			trytes, bundle, err := mam.Bundle(msg, tag, time.Now())
			if err != nil {
				return err
			}
			node := &mam.HTTPNode{URL: nodeURL, MWM: mwm}
			if err := node.Publish(cmd.Context(), trytes); err != nil {
				return fmt.Errorf("publish %s (state saved; retry with --resend): %w", name, err)
			}
			return writeJSON(cmd.OutOrStdout(), map[string]any{"channel": name, "root": msg.Root, "address": msg.Address, "bundle": bundle, "index": msg.Index, "next_root": msg.NextRoot})
		},
	}
	cmd.Flags().StringVar(&name, "channel", "", "channel name (required)")
	cmd.Flags().StringVar(&nodeURL, "node", mam.DefaultNodeURL, "IRI-compatible node API")
	cmd.Flags().StringVar(&dbPath, "db", defaultDB, "gateway database")
	cmd.Flags().StringVar(&tag, "tag", "TANGLEGATE", "transaction tag (at most 27 trytes)")
	cmd.Flags().BoolVar(&raw, "trytes", false, "stdin holds trytes, not ASCII")
	cmd.Flags().BoolVar(&resend, "resend", false, "send the channel's last message again")
	cmd.Flags().IntVar(&mwm, "mwm", 14, "minimum weight magnitude for attachToTangle")
	_ = cmd.MarkFlagRequired("channel")
	return cmd
}

// readerFlags are shared by fetch and listen.
type readerFlags struct {
	root, modeS, sideFile, nodeURL string
}

func (f *readerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.root, "root", "", "root to start from (required)")
	cmd.Flags().StringVar(&f.modeS, "mode", "public", "public, private or restricted")
	cmd.Flags().StringVar(&f.sideFile, "side-key-file", "", "file holding the side key (restricted mode)")
	cmd.Flags().StringVar(&f.nodeURL, "node", mam.DefaultNodeURL, "IRI-compatible node API")
	_ = cmd.MarkFlagRequired("root")
}

func (f *readerFlags) reader(stderr io.Writer) (*mam.Reader, error) {
	mode, err := mam.ParseMode(f.modeS)
	if err != nil {
		return nil, err
	}
	side, err := readSideKey(f.sideFile)
	if err != nil {
		return nil, err
	}
	if mode == mam.Restricted && side == "" {
		return nil, fmt.Errorf("restricted mode needs --side-key-file")
	}
	if len(f.root) != trinary.HashTrytes || trinary.ValidTrytes(f.root) != nil {
		return nil, fmt.Errorf("--root must be 81 trytes")
	}
	return &mam.Reader{
		Node: &mam.HTTPNode{URL: f.nodeURL}, Mode: mode, SideKey: side,
		OnSkip: func(s mam.Skipped) {
			fmt.Fprintf(stderr, "skipped address=%s bundle=%s err=%q\n", s.Address, s.Bundle, s.Err)
		},
	}, nil
}

// fetchedLine is one message as printed by fetch and listen.
type fetchedLine struct {
	mam.Fetched
	Text string `json:"text,omitempty"` // the message as ASCII, when it is ASCII
}

func printFetched(w io.Writer, f mam.Fetched) error {
	l := fetchedLine{Fetched: f}
	if t, err := trinary.TrytesToASCII(strings.TrimRight(f.Message, "9")); err == nil {
		l.Text = t
	}
	return writeJSON(w, l)
}

func newMamFetchCmd() *cobra.Command {
	var f readerFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Print the channel's messages from --root on, as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.reader(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cur := &mam.Cursor{Root: f.root}
			return r.Follow(cmd.Context(), cur, limit, func(m mam.Fetched) error { return printFetched(cmd.OutOrStdout(), m) })
		},
	}
	f.add(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "stop after this many roots (0: all)")
	return cmd
}

func newMamListenCmd() *cobra.Command {
	var f readerFlags
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Follow the channel from --root and print new messages until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.reader(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cur := &mam.Cursor{Root: f.root}
			for {
				err := r.Follow(ctx, cur, 0, func(m mam.Fetched) error { return printFetched(cmd.OutOrStdout(), m) })
				if err != nil && ctx.Err() == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "fetch failed, retrying root=%s err=%q\n", cur.Root, err)
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(interval):
				}
			}
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "poll interval")
	return cmd
}
