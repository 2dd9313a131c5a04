// Package builtin holds the rule packs compiled into kensa: one directory per pack under
// packs/, each rule with its test fixtures beside it in the pack's testdata directory.
package builtin

import (
	"embed"
	"io/fs"
)

//go:embed all:packs
var packs embed.FS

// FS is the tree of built-in packs: one directory per pack.
func FS() fs.FS {
	sub, err := fs.Sub(packs, "packs")
	if err != nil {
		panic(err) // the embedded tree always has packs/
	}
	return sub
}
