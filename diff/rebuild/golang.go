package rebuild

import (
	"encoding/binary"
	"runtime/debug"
	"sort"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// Go build information, read here rather than through debug/buildinfo so that no
// standard library executable parser sees the hostile file again.
const (
	goInfoMagic = "\xff Go buildinf:"
	// maxGoInfoSearch bounds the bytes of a section searched for the magic and read for
	// the build information.
	maxGoInfoSearch = 1 << 20
)

// goInfo reads the Go build information of a Go 1.18 or later executable. found reports
// the magic was there; info is nil when it could not be read.
func goInfo(im *image) (info *debug.BuildInfo, found bool) {
	for _, s := range im.sections {
		switch s.Name {
		case ".go.buildinfo", "__go_buildinfo", ".data", "__data":
		default:
			continue
		}
		n := min(s.FileSize, maxGoInfoSearch)
		if n <= 0 {
			continue
		}
		b, err := im.read(section{Name: s.Name, Offset: s.Offset, FileSize: n})
		if err != nil {
			continue
		}
		for off := 0; off+32 <= len(b); off += 16 {
			if string(b[off:off+len(goInfoMagic)]) != goInfoMagic {
				continue
			}
			return parseGoInfo(b[off:]), true
		}
	}
	return nil, false
}

func parseGoInfo(b []byte) *debug.BuildInfo {
	const flagsVersionInl = 0x2
	if b[15]&flagsVersionInl == 0 {
		return nil // before Go 1.18: pointers to the strings, not compared
	}
	b = b[32:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	vers, ok := str()
	if !ok {
		return nil
	}
	mod, ok := str()
	if !ok {
		return nil
	}
	if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
		mod = mod[16 : len(mod)-16]
	} else {
		mod = ""
	}
	bi, err := debug.ParseBuildInfo(mod)
	if err != nil {
		return nil
	}
	bi.GoVersion = vers
	return bi
}

// compareGo compares Go build information. The Go build ID is legitimate; the Go
// version, module path, dependencies and build settings are compared, version control
// settings included (a rebuild from another commit is not the same source).
func compareGo(c *comparison, d, r *image) {
	di, dfound := goInfo(d)
	ri, rfound := goInfo(r)
	switch {
	case !dfound && !rfound:
		return
	case !dfound:
		c.differ("go-build", "", "the rebuild is a Go program and the delivered file carries no Go build information")
		return
	case !rfound:
		c.differ("go-build", "", "the delivered file is a Go program and the rebuild carries no Go build information")
		return
	case di == nil || ri == nil:
		c.differ("go-build", "", "the Go build information of the %s could not be read (malformed, or older than Go 1.18)", which(di == nil, ri == nil))
		return
	}
	if di.GoVersion != ri.GoVersion {
		c.add(result.Low, "toolchain", "go", "Go toolchain changed: %s → %s", ri.GoVersion, di.GoVersion)
	}
	if di.Path != ri.Path {
		c.differ("go-build", "path", "main package is %s in the delivered file, %s in the rebuild", di.Path, ri.Path)
	}
	if di.Main.Path != ri.Main.Path || di.Main.Version != ri.Main.Version || di.Main.Sum != ri.Main.Sum {
		c.differ("go-build", "main", "main module is %s %s in the delivered file, %s %s in the rebuild", di.Main.Path, di.Main.Version, ri.Main.Path, ri.Main.Version)
	}
	mods := func(bi *debug.BuildInfo) []string {
		var out []string
		for _, m := range bi.Deps {
			s := m.Path + "@" + m.Version
			if m.Replace != nil {
				s += " => " + m.Replace.Path + "@" + m.Replace.Version
			}
			out = append(out, s)
		}
		return out
	}
	compareSets(c, "go-build", "module", mods(di), mods(ri))
	settings := func(bi *debug.BuildInfo) map[string]string {
		m := map[string]string{}
		for _, s := range bi.Settings {
			m[s.Key] = s.Value
		}
		return m
	}
	ds, rs := settings(di), settings(ri)
	var keys []string
	for k := range ds {
		keys = append(keys, k)
	}
	for k := range rs {
		if _, ok := ds[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		dv, dok := ds[k]
		rv, rok := rs[k]
		switch {
		case dv == rv && dok == rok:
		case k == "-buildid":
			c.ignore("build-id", k, "Go build setting -buildid differs (%q → %q)", rv, dv)
		case strings.HasPrefix(k, "vcs."):
			c.differ("go-build", k, "Go build setting %s is %q in the delivered file, %q in the rebuild: it was built from other sources", k, clip(dv), clip(rv))
		default:
			c.differ("go-build", k, "Go build setting %s is %q in the delivered file, %q in the rebuild", k, clip(dv), clip(rv))
		}
	}
}

func which(d, r bool) string {
	switch {
	case d && r:
		return "delivered file and the rebuild"
	case d:
		return "delivered file"
	}
	return "rebuild"
}
