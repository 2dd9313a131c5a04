package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWritesProfilesAndPassesTheExitCode(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out, errb bytes.Buffer
	if code := run([]string{"-cpuprofile", cpu, "-memprofile", mem, "--", "version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "kensa") {
		t.Errorf("kensa version printed %q", out.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// pprof writes gzip-compressed protocol buffers.
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not a profile (%d bytes)", p, len(b))
		}
	}
	if code := run([]string{"--", "no-such-command"}, &out, &errb); code == 0 {
		t.Error("an unknown kensa command exited 0")
	}
	if code := run([]string{"-cpuprofile", filepath.Join(dir, "missing", "cpu.pprof"), "--", "version"}, &out, &errb); code != 2 {
		t.Errorf("an unwritable profile: exit %d, want 2", code)
	}
}
