// Command app is the source of the Go build information fixtures: it is built at test
// time for several platforms and with several build flags.
package main

import (
	"fmt"

	"example.com/dep"
)

var version = "dev"

func main() {
	fmt.Println(dep.Greeting(), version)
}
