// Command casemgr-admin is the Windows administration tool of the fictional vendor
// Hoshizora Systems, cross-compiled with Go for kensa's example delivery. kensa never
// runs it.
package main

import (
	"fmt"
	"os"
)

const service = "https://admin.hoshizora.example/api/v1"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("casemgr-admin 3.2.0")
		return
	}
	fmt.Printf("casemgr-admin: managing case-management servers through %s\n", service)
}
