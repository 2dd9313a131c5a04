// Command handler is a small Go request handler, built twice by the tests of package
// rebuild. The tests change handleRequest in one copy to make a binary that differs.
package main

import (
	"fmt"
	"os"
	"strings"
)

//go:noinline
func parseMethod(req string) int {
	switch {
	case strings.HasPrefix(req, "GET "):
		return 1
	case strings.HasPrefix(req, "POST "):
		return 2
	}
	return 0
}

//go:noinline
func handleRequest(req string) (int, string) {
	switch parseMethod(req) {
	case 1:
		return 200, fmt.Sprintf("200 OK %d", len(req))
	case 2:
		return 201, "201 Created"
	}
	return 400, "400 Bad Request"
}

func main() {
	req := "GET /"
	if len(os.Args) > 1 {
		req = os.Args[1]
	}
	code, out := handleRequest(req)
	fmt.Println(out)
	if code != 200 {
		os.Exit(1)
	}
}
