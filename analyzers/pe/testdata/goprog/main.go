// Command goprog is a small Windows program the pe analyzer's tests cross-compile.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("kensa pe fixture", len(os.Args))
}
