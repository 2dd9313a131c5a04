package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/internal/cli"
)

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals on this machine: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestProgressOnlyOnTerminal checks that progress goes to stderr when it is a terminal,
// never to stdout, and not at all when stderr is not a terminal or with --quiet.
func TestProgressOnlyOnTerminal(t *testing.T) {
	dir := t.TempDir()
	for i := range 40 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), bytes.Repeat([]byte{byte(i)}, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	master, slave := openPTY(t)
	var tty bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&tty, master); close(done) }()

	var out bytes.Buffer
	if code := cli.Run([]string{"scan", "--jobs", "1", "--format", "json", dir}, &out, slave); code != 0 {
		t.Fatalf("exit %d", code)
	}
	slave.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	if !strings.Contains(tty.String(), "kensa: read ") {
		t.Errorf("no progress on the terminal; it got %q", tty.String())
	}
	if strings.Contains(out.String(), "kensa: read") {
		t.Error("progress reached stdout")
	}

	var errOut bytes.Buffer
	out.Reset()
	if code := cli.Run([]string{"scan", "--format", "json", dir}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr is not a terminal, yet it got %q", errOut.String())
	}

	master2, slave2 := openPTY(t)
	var tty2 bytes.Buffer
	done2 := make(chan struct{})
	go func() { io.Copy(&tty2, master2); close(done2) }()
	if code := cli.Run([]string{"scan", "--quiet", "--format", "json", dir}, io.Discard, slave2); code != 0 {
		t.Fatalf("exit %d", code)
	}
	slave2.Close()
	select {
	case <-done2:
	case <-time.After(5 * time.Second):
	}
	if tty2.Len() != 0 {
		t.Errorf("--quiet, yet the terminal got %q", tty2.String())
	}
}
