// Command kensa verifies delivered software before anyone trusts it: it takes a delivery
// apart, makes its own inventory and SBOM from the bytes, checks signatures and provenance
// against what the buyer expects, flags traits that suggest a backdoor, and compares a
// release with the last accepted one.
//
// Run `kensa help` for the commands. Exit codes: 0 clean, 1 findings at or above
// --fail-on or a failed verification, 2 could not decide.
package main

import (
	"os"

	"kensa.dev/kensa/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
