package archive

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/limits"
)

// checkClean asserts the invariants of CleanName's output for any input.
func checkClean(t testing.TB, raw, out string, l *limits.Limits) {
	t.Helper()
	if !filepath.IsLocal(out) {
		t.Fatalf("CleanName(%q) = %q, which filepath.IsLocal rejects", raw, out)
	}
	if strings.HasPrefix(out, "/") || strings.HasPrefix(out, `\`) || strings.Contains(out, "\x00") {
		t.Fatalf("CleanName(%q) = %q: rooted or NUL", raw, out)
	}
	if out != "." && path.Clean(out) != out {
		t.Fatalf("CleanName(%q) = %q, not clean (%q)", raw, out, path.Clean(out))
	}
	for _, c := range strings.Split(out, "/") {
		if c == ".." || c == "." && out != "." || c == "" {
			t.Fatalf("CleanName(%q) = %q has a %q component", raw, out, c)
		}
	}
	depth := 0
	for _, c := range strings.FieldsFunc(out, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch c {
		case ".":
		case "..":
			if depth--; depth < 0 {
				t.Fatalf("CleanName(%q) = %q climbs when backslash is a separator", raw, out)
			}
		default:
			depth++
		}
	}
	if len(out) > 1 && out[1] == ':' && (out[0]|0x20 >= 'a' && out[0]|0x20 <= 'z') {
		t.Fatalf("CleanName(%q) = %q starts with a drive", raw, out)
	}
	if len(out) > l.PathLength || strings.Count(out, "/")+1 > l.PathComponents {
		t.Fatalf("CleanName(%q) = %q is over the limits", raw, out)
	}
	again, err := CleanName(out, l)
	if again != out || err != nil {
		t.Fatalf("CleanName(%q) = %q, but CleanName(%q) = %q, %v", raw, out, out, again, err)
	}
}

// TestCleanName covers T1, Z1 and D1 names, and T11's long and deep paths.
func TestCleanName(t *testing.T) {
	l := lim()
	long := strings.Repeat("x", 5000)
	deep := strings.Repeat("d/", 600) + "f"
	for _, c := range []struct {
		raw, want string
		reason    string // the UnsafePathError reason, "" for none
		limit     string // the *limits.Error limit, "" for none
	}{
		{"usr/bin/x", "usr/bin/x", "", ""},
		{"./usr/bin/x", "usr/bin/x", "", ""},
		{"./", ".", "", ""},
		{".", ".", "", ""},
		{"a//b/./c/", "a/b/c", "", ""},
		{"a/../b", "b", "", ""},
		{`dev-disk-by\x2duuid.swap`, `dev-disk-by\x2duuid.swap`, "", ""}, // a real systemd unit name
		{"ab:c", "ab:c", "", ""},
		{"a:b", "b", "Windows drive path", ""},
		{"", ".", "empty name", ""},
		{"../x", "x", "climbs above the archive root", ""},
		{"/etc/x", "etc/x", "absolute path", ""},
		{"///", ".", "absolute path", ""},
		{"..", ".", "climbs above the archive root", ""},
		{"a/../../x", "x", "climbs above the archive root", ""},
		{"./../x", "x", "climbs above the archive root", ""},
		{"a/b/../../../../x/y", "x/y", "climbs above the archive root", ""},
		{`..\x`, "x", "climbs above the archive root (backslash as separator)", ""},
		{`a\..\..\x`, "x", "climbs above the archive root (backslash as separator)", ""},
		{`a\../../b`, "b", "climbs above the archive root (backslash as separator)", ""},
		{`C:\x`, "x", "Windows drive path", ""},
		{`C:/x`, "x", "Windows drive path", ""},
		{`c:x`, "x", "Windows drive path", ""},
		{"C:", ".", "Windows drive path", ""},
		{`C:\..\x`, "x", "Windows drive path", ""},
		{`\\host\share\x`, `host\share\x`, "UNC path", ""},
		{`\x`, "x", "absolute path (backslash)", ""},
		{`./\x`, "x", "absolute path (backslash)", ""},
		{"/C:/x", "x", "absolute path", ""},
		{"a\x00/../../etc", "etc", "NUL byte in name", ""},
		{"a\x00b", "a_b", "NUL byte in name", ""},
		{long, strings.Repeat("x", 4096), "", "path-length"},
		{deep, strings.TrimSuffix(strings.Repeat("d/", 500), "/"), "", "path-components"},
	} {
		out, err := CleanName(c.raw, l)
		if out != c.want {
			t.Errorf("CleanName(%.40q) = %.60q, want %.60q", c.raw, out, c.want)
		}
		var ue *UnsafePathError
		switch {
		case c.reason == "" && errors.As(err, &ue):
			t.Errorf("CleanName(%.40q): unexpected %v", c.raw, err)
		case c.reason != "" && !errors.As(err, &ue):
			t.Errorf("CleanName(%.40q): want UnsafePathError %q, got %v", c.raw, c.reason, err)
		case c.reason != "" && (ue.Reason != c.reason || ue.Name != c.raw):
			t.Errorf("CleanName(%.40q): reason %q, want %q", c.raw, ue.Reason, c.reason)
		}
		le, isLimit := limitErr(err)
		switch {
		case c.limit == "" && isLimit:
			t.Errorf("CleanName(%.40q): unexpected %v", c.raw, err)
		case c.limit != "" && (!isLimit || le.Limit != c.limit):
			t.Errorf("CleanName(%.40q): want the %s limit, got %v", c.raw, c.limit, err)
		}
		if c.reason == "" && c.limit == "" && err != nil {
			t.Errorf("CleanName(%.40q): %v", c.raw, err)
		}
		checkClean(t, c.raw, out, l)
	}

	// Both kinds at once.
	out, err := CleanName("/../"+long, l)
	var ue *UnsafePathError
	if !errors.As(err, &ue) || ue.Reason != "absolute path" {
		t.Errorf("want an UnsafePathError, got %v", err)
	}
	wantLimit(t, err, "path-length")
	checkClean(t, "/../"+long, out, l)

	// A cut that would leave a climbing component.
	small := *l
	small.PathLength = 8
	raw := `a\..\..b` + "/more"
	out, _ = CleanName(raw, &small)
	checkClean(t, raw, out, &small)
	// A cut inside a multi-byte character.
	out, _ = CleanName(strings.Repeat("é", 10), &small)
	if out != "éééé" {
		t.Errorf("cut at a character boundary: %q", out)
	}
	small.PathLength = 1
	out, _ = CleanName("éé", &small)
	checkClean(t, "éé", out, &small)
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "../x", "/etc/x", `C:\x`, `\\h\s`, `..\x`, "a/../../b", `a\..\..b/x`,
		"./a//b/", "a\x00b", "C:..", `x\..\C:\y`, strings.Repeat("a/", 40), strings.Repeat("é", 30)} {
		f.Add(s, 64, 8)
	}
	f.Fuzz(func(t *testing.T, raw string, length, comps int) {
		l := limits.Default()
		l.PathLength = 1 + abs(length)%200
		l.PathComponents = 1 + abs(comps)%20
		out, err := CleanName(raw, &l)
		checkClean(t, raw, out, &l)
		out2, err2 := CleanName(raw, &l)
		if out2 != out || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %q %v, then %q %v", out, err, out2, err2)
		}
		if err == nil && filepath.Clean(strings.TrimPrefix(raw, "./")) != out && !strings.ContainsAny(raw, "/\\") && raw != out {
			t.Fatalf("plain name %q changed to %q", raw, out)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n {
			return 0
		}
		return -n
	}
	return n
}
