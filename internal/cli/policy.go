package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/internal/policy"
)

func newPolicy(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Write and check acceptance policies",
	}
	var (
		requirements bool
		lang         string
	)
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starter policy, or the delivery requirements for a contract, to standard output",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if requirements {
				text, ok := policy.VendorRequirements[lang]
				if !ok {
					return usagef("--lang %q: want ja or en", lang)
				}
				_, err := io.WriteString(stdout, text)
				return err
			}
			_, err := io.WriteString(stdout, policy.Starter)
			return err
		},
	}
	initCmd.Flags().BoolVar(&requirements, "vendor-requirements", false, "write what a procurement specification should require the vendor to deliver")
	initCmd.Flags().StringVar(&lang, "lang", "en", "language of --vendor-requirements: ja or en")
	cmd.AddCommand(initCmd, &cobra.Command{
		Use:   "check FILE",
		Short: "Read a policy strictly and report its first mistake with its line",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("policy check needs one FILE")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			p, err := policy.Load(args[0])
			if err != nil {
				return &exitError{code: ExitFindings, err: err}
			}
			fmt.Fprintf(stdout, "%s: a valid policy (%s)\n", args[0], p.Digest)
			return nil
		},
	})
	return cmd
}
