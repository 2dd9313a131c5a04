package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/fixture"
)

// hostileArgs are the arguments of `kensa` for each hostile case of internal/fixture
// (FILE is the case's file): the limits that make the case bite, as its testscript uses
// them. A case not listed is scanned with the defaults.
var hostileArgs = map[string][]string{
	"bomb-total":       {"scan", "--limit", "total-size=10M", "FILE"},
	"many-entries":     {"scan", "--limit", "entries=20000", "FILE"},
	"alloc-bomb":       {"scan", "--limit", "ratio=5000", "--limit", "worker-memory=128M", "FILE"},
	"alloc-bomb-image": {"scan", "--limit", "ratio=5000", "--limit", "worker-memory=128M", "docker-archive:FILE"},
	"sbom-bomb":        {"sbom", "delivery", "--compare", "FILE", "--limit", "worker-memory=128M"},
}

// TestHostileCasesTwice runs kensa on every hostile case twice, each run in a fresh
// scratch directory: kensa cannot decide (exit 2), both runs give the same output byte for
// byte, the scratch directory is empty afterwards and nothing is written beside the input.
// (Memory is measured where kensa reports it, in hostile_alloc_bomb.txtar: the kernel's
// rusage of a process this test starts counts this test binary's memory too.)
func TestHostileCasesTwice(t *testing.T) {
	for _, name := range fixture.HostileNames() {
		t.Run(name, func(t *testing.T) {
			c := fixture.Hostile[name]
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, c.File), c.Make(), 0o644); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(dir, "delivery"), 0o755)
			os.WriteFile(filepath.Join(dir, "delivery", "notes.txt"), []byte("release notes\n"), 0o644)
			args := hostileArgs[name]
			if args == nil {
				args = []string{"scan", "FILE"}
			}
			var outs [2][]byte
			for i := range outs {
				scratch := t.TempDir()
				out := filepath.Join(scratch, "..", filepath.Base(scratch)+".json")
				argv := append([]string{"kensa"}, subst(args, c.File)...)
				argv = append(argv, "-q", "--scratch", scratch)
				if argv[1] == "scan" {
					argv = append(argv, "--format", "json", "-o", out)
				}
				cmd := &exec.Cmd{Path: os.Args[0], Args: argv, Dir: dir, Env: append(os.Environ(), "TMPDIR="+scratch)}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if code := cmd.ProcessState.ExitCode(); code != 2 {
					t.Fatalf("%v: exit %d (%v), want 2\n%s%s", argv[1:], code, err, stdout.Bytes(), stderr.Bytes())
				}
				if entries, _ := os.ReadDir(scratch); len(entries) > 0 {
					t.Errorf("the scratch directory was not cleaned: %v", entries)
				}
				outs[i] = stdout.Bytes()
				if argv[1] == "scan" {
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					outs[i] = b
				}
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Errorf("two runs differ:\n%s\n---\n%s", outs[0], outs[1])
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("files appeared beside the input: %v", entries)
			}
		})
	}
}

func subst(args []string, file string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "FILE", file)
	}
	return out
}
