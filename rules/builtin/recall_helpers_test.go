package builtin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/cli"
	"kensa.dev/kensa/internal/result"
)

// scan runs `kensa scan --format json` on the targets, as a user would, and returns the
// result. The exit code must be 0 or 1: errors in the result fail the test.
func scan(t *testing.T, targets ...string) *result.Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(append([]string{"scan", "--format", "json", "--quiet"}, targets...), &stdout, &stderr)
	if code != 0 && code != 1 {
		t.Fatalf("kensa scan exited %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	var res result.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("decoding the result: %v", err)
	}
	return &res
}

// findings indexes a result's findings by path, each path's list of "rule severity".
func findings(res *result.Result) map[string][]string {
	out := map[string][]string{}
	for _, f := range res.Findings {
		out[f.Path] = append(out[f.Path], string(f.Rule)+" "+string(f.Severity))
	}
	return out
}

// wantFinding fails unless the file at path has a finding of a rule whose id starts with
// prefix, at severity sev or above.
func wantFinding(t *testing.T, res *result.Result, path, prefix string, sev result.Severity) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Path == path && strings.HasPrefix(f.Rule, prefix) && f.Severity.Rank() >= sev.Rank() {
			return
		}
	}
	t.Errorf("%s: no %s* finding at %s or above; findings: %v", path, prefix, sev, findings(res)[path])
}

// wantNoFinding fails if the file at path has a finding at sev or above.
func wantNoFinding(t *testing.T, res *result.Result, path string, sev result.Severity) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Path == path && f.Severity.Rank() >= sev.Rank() {
			t.Errorf("%s: unexpected finding %s (%s)", path, f.Rule, f.Severity)
		}
	}
}

// build runs a command in dir (a compiler building a simulator; never the simulator).
func build(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// write writes a file under dir, making its directories.
func write(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}
