package cli

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// An output that is not a regular file is written to, never replaced: `-o /dev/null`
// must leave the device in place.
func TestWriteFileSpecial(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := writeFile(fifo, func(w io.Writer) error { _, err := io.WriteString(w, "result"); return err }); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "result" {
		t.Errorf("read %q from the pipe", s)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", fi.Mode(), err)
	}
	if err := writeFile(t.TempDir(), func(io.Writer) error { return nil }); err == nil {
		t.Error("writing over a directory succeeded")
	}
}
