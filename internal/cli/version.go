package cli

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/internal/version"
)

func newVersion(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version of this build",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v, c := version.Get()
			if c == "" {
				c = "unknown"
			}
			fmt.Fprintf(stdout, "kensa %s\ncommit: %s\ngo: %s %s/%s\n", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
