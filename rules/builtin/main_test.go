package builtin_test

import (
	"os"
	"testing"

	"kensa.dev/kensa/analyzers/worker"
)

// The recall tests run kensa's scan, whose parsers run in worker processes that re-execute
// this test binary: it serves as a worker when asked.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == worker.Arg {
		os.Exit(worker.Serve())
	}
	os.Exit(m.Run())
}
