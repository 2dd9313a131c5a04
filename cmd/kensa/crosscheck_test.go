package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/cli"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/result"
)

// scanJSON runs `kensa scan --format json` in-process and decodes the result.
func scanJSON(t *testing.T, args ...string) *result.Result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(append([]string{"scan", "--format", "json"}, args...), &out, &errOut)
	if code != 0 {
		t.Fatalf("kensa scan %v: exit %d\n%s\n%s", args, code, errOut.String(), out.String())
	}
	var res result.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// extractedDigests returns the sha256 of every regular file under dir, by relative path.
func extractedDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		sums[filepath.ToSlash(rel)] = "sha256:" + hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// TestDigestsMatchStandardTools checks the inventory against what tar, dpkg-deb and
// unzip extract from the same deliveries: every file they extract is in the inventory
// with the digest sha256 gives its bytes, and the inventory lists no file they do not.
func TestDigestsMatchStandardTools(t *testing.T) {
	delivery := t.TempDir()
	if err := fixture.Example(context.Background(), "../../testdata/example", delivery); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cases := []struct {
		file    string
		prefix  string
		extract func(dir string)
	}{
		{"casemgr-agent-3.2.0-linux-amd64.tar.gz", "casemgr-agent-3.2.0-linux-amd64.tar.gz!", func(dir string) {
			run(t, dir, "tar", "-xzf", filepath.Join(delivery, "casemgr-agent-3.2.0-linux-amd64.tar.gz"))
		}},
		{"casemgr-agent_3.2.0_amd64.deb", "casemgr-agent_3.2.0_amd64.deb!data.tar.xz!", func(dir string) {
			run(t, dir, "dpkg-deb", "-x", filepath.Join(delivery, "casemgr-agent_3.2.0_amd64.deb"), ".")
		}},
		{"casemgr-agent_3.2.0_amd64.deb", "casemgr-agent_3.2.0_amd64.deb!control.tar.xz!", func(dir string) {
			run(t, dir, "dpkg-deb", "-e", filepath.Join(delivery, "casemgr-agent_3.2.0_amd64.deb"), ".")
		}},
	}
	// A zip made by zip(1) from the extracted tar.gz, read back by unzip.
	zipDir := filepath.Join(work, "zipsrc")
	os.MkdirAll(zipDir, 0o755)
	run(t, zipDir, "tar", "-xzf", filepath.Join(delivery, "casemgr-agent-3.2.0-linux-amd64.tar.gz"))
	run(t, zipDir, "zip", "-q", "-r", filepath.Join(delivery, "agent.zip"), ".")
	cases = append(cases, struct {
		file    string
		prefix  string
		extract func(dir string)
	}{"agent.zip", "agent.zip!", func(dir string) {
		run(t, dir, "unzip", "-q", filepath.Join(delivery, "agent.zip"))
	}})

	for i, c := range cases {
		t.Run(c.prefix, func(t *testing.T) {
			dir := filepath.Join(work, "x", string(rune('a'+i)))
			os.MkdirAll(dir, 0o755)
			c.extract(dir)
			want := extractedDigests(t, dir)
			if len(want) == 0 {
				t.Fatal("the standard tool extracted nothing")
			}
			res := scanJSON(t, filepath.Join(delivery, c.file))
			got := map[string]string{}
			for _, a := range res.Artifacts {
				if rest, ok := strings.CutPrefix(a.Path, c.prefix); ok && !strings.Contains(rest, "!") && a.Type == "file" {
					got[rest] = a.Digest
				}
			}
			for p, d := range want {
				if got[p] != d {
					t.Errorf("%s: kensa says %q, sha256 of the extracted file is %s", p, got[p], d)
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: listed by kensa but not extracted by the standard tool", p)
				}
			}
			t.Logf("%d files agree", len(want))
		})
	}
}
