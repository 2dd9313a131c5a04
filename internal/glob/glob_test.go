package glob

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"*.so", "usr/lib/libfoo.so", true},
		{"*.so", "app.tar!usr/lib/libfoo.so", true},
		{"*.so", "usr/lib/libfoo.so.1", false},
		{"agentd", "pkg.deb!data.tar.xz!usr/sbin/agentd", true},
		{"usr/bin/*", "usr/bin/ls", true},
		{"usr/bin/*", "usr/bin/sub/ls", false},
		{"usr/bin/*", "x.tar!usr/bin/ls", false},
		{"**/usr/bin/*", "x.tar!usr/bin/ls", false},
		{"**usr/bin/*", "x.tar!usr/bin/ls", true},
		{"**!usr/bin/*", "x.tar!usr/bin/ls", true},
		{"**.deb!**", "images/a.tar!var/cache/x.deb!data.tar.xz!usr/bin/a", true},
		{"*.deb!*", "x.deb!control.tar.xz", true},
		{"*.deb!*", "x.deb!control.tar.xz!postinst", false},
		{"bin/?s", "bin/ls", true},
		{"bin/?s", "bin//s", false},
		{"bin/[lc]s", "bin/cs", true},
		{"bin/[!l]s", "bin/ls", false},
		{"bin/[^l]s", "bin/ks", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"a.b", "axb", false},
		{"(x)+", "(x)+", true},
	} {
		p, err := Compile(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("%q on %q: got %v", c.pattern, c.path, got)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, p := range []string{"", "a[b", `a\`, "[]", "[!]"} {
		if _, err := Compile(p); err == nil {
			t.Errorf("%q compiled", p)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"*.so", "**!usr/*", "[a-z]?", `\[`, "[]]x"} {
		f.Add(s, "usr/lib/x.so")
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		p.Match(path)
	})
}
