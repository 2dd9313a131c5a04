// Package tools pins the command-line tools kensa's build and tests run (linters, the
// vulnerability checker, and the cosign and syft CLIs that interoperability tests compare
// kensa against), as go.mod tool dependencies kept apart from kensa's own module so that
// they never become dependencies of kensa itself. Run one with
//
//	go tool -modfile=tools/go.mod NAME
package tools
