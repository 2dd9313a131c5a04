// Command hello is the source of the Mach-O test fixtures: it is cross-compiled for
// darwin/amd64 and darwin/arm64 at test time.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stdout, "hello from a kensa fixture")
}
