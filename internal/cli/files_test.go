package cli

import (
	"errors"
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

// Reports are written in small pieces (a template writes each text and value on its
// own): they reach the file through a buffer, whole, and a report that fails leaves no
// file.
func TestWriteFileBuffered(t *testing.T) {
	name := filepath.Join(t.TempDir(), "report.html")
	err := writeFile(name, func(w io.Writer) error {
		if _, ok := w.(*os.File); ok {
			return errors.New("the report is written to the file unbuffered")
		}
		for i := range 100000 {
			if _, err := io.WriteString(w, string(rune('0'+i%10))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil || len(b) != 100000 || b[99999] != '9' {
		t.Fatalf("%d bytes written, %v", len(b), err)
	}
	failed := filepath.Join(t.TempDir(), "failed.html")
	if err := writeFile(failed, func(w io.Writer) error {
		io.WriteString(w, "half a report")
		return errors.New("template failed")
	}); err == nil {
		t.Fatal("a failed report was written")
	}
	if _, err := os.Stat(failed); !os.IsNotExist(err) {
		t.Errorf("a failed report left a file: %v", err)
	}
}
