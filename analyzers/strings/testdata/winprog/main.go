// Command winprog is a fixture: a tiny Windows program holding a URL and a UTF-16 string.
package main

import (
	"fmt"
	"os"
	"syscall"
)

// wide is stored in the binary's data as UTF-16LE, the way Windows programs keep their
// wide-character strings.
var wide = [...]uint16{'K', 'e', 'n', 's', 'a', 'W', 'i', 'd', 'e', 'M', 'a', 'r', 'k', 'e', 'r', '\\', 'R', 'u', 'n', 0}

// url is a plain ASCII string.
const url = "https://update.kensa-fixture.example.com/agent/beacon"

var runtimeWide []uint16

func init() {
	// A UTF-16 string made at run time exists only in memory; wide above is in the file.
	runtimeWide, _ = syscall.UTF16FromString("RuntimeOnlyWide")
}

func main() {
	fmt.Fprintln(os.Stdout, url, len(wide), len(runtimeWide), wide[0])
}
