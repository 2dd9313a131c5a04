package limits

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/limits.md from the code")

func TestSet(t *testing.T) {
	l := Default()
	for _, c := range []struct {
		in   string
		get  func() int64
		want int64
	}{
		{"entry-size=512M", func() int64 { return l.EntrySize }, 512 * MiB},
		{"entry-size=3GiB", func() int64 { return l.EntrySize }, 3 * GiB},
		{"total-size=1T", func() int64 { return l.TotalSize }, 1 << 40},
		{"spool-memory=1536K", func() int64 { return l.SpoolMemory }, 1536 * KiB},
		{"header-size=100", func() int64 { return l.HeaderSize }, 100},
		{"depth=10", func() int64 { return int64(l.Depth) }, 10},
		{"entries=20000", func() int64 { return l.Entries }, 20000},
		{"worker-memory=512M", func() int64 { return l.WorkerMemory }, 512 * MiB},
		{"parse-timeout=2m", func() int64 { return l.ParseTimeout }, 120},
		{"parse-timeout=90", func() int64 { return l.ParseTimeout }, 90},
		{"parse-cpu=1h", func() int64 { return l.ParseCPU }, 3600},
	} {
		if err := l.Set(c.in); err != nil {
			t.Errorf("Set(%q): %v", c.in, err)
			continue
		}
		if got := c.get(); got != c.want {
			t.Errorf("Set(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"entries", "entries=", "entries=-1", "entries=0", "entries=1M", "nonsense=1",
		"entry-size=9999999999T", "depth=99999999999", "ratio=1.5", "parse-timeout=1.5s", "parse-timeout=soon", "parse-cpu=0s"} {
		if err := l.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestFormatSizeRoundTrips(t *testing.T) {
	for _, n := range []int64{1, 1023, KiB, 1536 * KiB, 64 * MiB, 2 * GiB, 8 * GiB, 1 << 40} {
		var l Limits
		if err := l.Set("entry-size=" + FormatSize(n)); err != nil || l.EntrySize != n {
			t.Errorf("%d → %q → %d, %v", n, FormatSize(n), l.EntrySize, err)
		}
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(100)
	if err := b.Take(60); err != nil {
		t.Fatal(err)
	}
	if err := b.Take(40); err != nil {
		t.Fatal(err)
	}
	err := b.Take(1)
	var le *Error
	if !errors.As(err, &le) || le.Limit != "total-size" {
		t.Fatalf("101 bytes of a 100-byte budget: %v", err)
	}
	if !strings.Contains(err.Error(), "--limit total-size=") {
		t.Errorf("the error does not say how to raise the limit: %v", err)
	}
	var nilBudget *Budget
	if nilBudget.Take(1<<40) != nil {
		t.Error("a nil budget is unlimited")
	}
}

// TestDocsCurrent keeps docs/limits.md in step with the defaults in the code.
func TestDocsCurrent(t *testing.T) {
	const path = "../../docs/limits.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- limits:begin -->\n", "<!-- limits:end -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q and %q markers", path, begin, end)
	}
	want := s[:i+len(begin)] + Markdown() + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date; run go test ./internal/limits -update", path)
}
