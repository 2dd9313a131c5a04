package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain makes the test binary a process that holds memory when asked to: with
// TREEPEAK_HOLD=MiB it touches that much memory, starts itself again holding the same
// when TREEPEAK_CHILD is set, and waits for that child.
func TestMain(m *testing.M) {
	if v := os.Getenv("TREEPEAK_HOLD"); v != "" {
		os.Exit(hold(v))
	}
	os.Exit(m.Run())
}

func hold(v string) int {
	mib, err := strconv.Atoi(v)
	if err != nil {
		return 3
	}
	b := make([]byte, mib<<20)
	for i := range b {
		b[i] = byte(i)
	}
	if os.Getenv("TREEPEAK_CHILD") != "" {
		os.Unsetenv("TREEPEAK_CHILD")
		if code := run([]string{"-o", os.DevNull, "--", os.Args[0]}, io.Discard); code != 0 {
			return code
		}
	} else {
		time.Sleep(400 * time.Millisecond)
	}
	if b[len(b)-1] != byte(len(b)-1) {
		return 4
	}
	return 0
}

// TestPeakCountsTheWholeTree: a process holding 64 MiB that starts a second one holding
// 64 MiB measures at least 128 MiB, more than either process alone.
func TestPeakCountsTheWholeTree(t *testing.T) {
	t.Setenv("TREEPEAK_HOLD", "64")
	t.Setenv("TREEPEAK_CHILD", "1")
	out := filepath.Join(t.TempDir(), "peak")
	if code := run([]string{"-o", out, "--", os.Args[0]}, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if kib < 128<<10 {
		t.Errorf("peak %d KiB, want at least %d KiB (two processes of 64 MiB each)", kib, 128<<10)
	}
}

// TestExitCode: the command's exit code is treepeak's.
func TestExitCode(t *testing.T) {
	out := filepath.Join(t.TempDir(), "peak")
	if code := run([]string{"-o", out, "--", "sh", "-c", "exit 3"}, io.Discard); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if code := run([]string{"-o", out, "--", "sh", "-c", "kill -TERM $$"}, io.Discard); code != 128+15 {
		t.Errorf("exit %d, want %d", code, 128+15)
	}
	if code := run([]string{"-o", out}, io.Discard); code != 125 {
		t.Errorf("no command: exit %d, want 125", code)
	}
}
