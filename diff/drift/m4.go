package drift

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"kensa.dev/kensa/diff/drift/internal/m4serial"
	"kensa.dev/kensa/internal/result"
)

//go:generate go run ./internal/m4gen -table m4serials.tsv -store m4upstream.zst automake autoconf libtool gettext autopoint pkgconf autoconf-archive

// m4Table is the table of upstream m4 macro files (see README.md): one line per name,
// serial and content, with the content's line count and where it came from.
//
//go:embed m4serials.tsv
var m4Table string

// m4Store holds the contents of the files of m4Table, zstd-compressed: for each content
// "SHA256 LENGTH\n" then the bytes.
//
//go:embed m4upstream.zst
var m4Store []byte

// M4File is one upstream m4 macro file kensa knows.
type M4File struct {
	Name   string // file name, "pkg.m4"
	Serial string // its serial line's number
	SHA256 string // hex sha256 of the content
	Lines  int
	Origin string // package, version and path it came from
}

var m4Known = sync.OnceValues(func() (map[string][]M4File, error) {
	known := map[string][]M4File{}
	sc := bufio.NewScanner(strings.NewReader(m4Table))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.SplitN(l, "\t", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("m4serials.tsv: malformed line %q", l)
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			return nil, fmt.Errorf("m4serials.tsv: malformed line %q", l)
		}
		known[f[0]] = append(known[f[0]], M4File{Name: f[0], Serial: f[1], SHA256: f[2], Lines: n, Origin: f[4]})
	}
	return known, nil
})

var m4Contents = sync.OnceValues(func() (map[string][]byte, error) {
	d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	raw, err := d.DecodeAll(m4Store, nil)
	if err != nil {
		return nil, fmt.Errorf("m4upstream.zst: %w", err)
	}
	out := map[string][]byte{}
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return nil, fmt.Errorf("m4upstream.zst: truncated")
		}
		sum, size, _ := strings.Cut(string(raw[:i]), " ")
		n, err := strconv.Atoi(size)
		if err != nil || n < 0 || n > len(raw)-i-1 {
			return nil, fmt.Errorf("m4upstream.zst: malformed header %q", raw[:i])
		}
		out[sum] = raw[i+1 : i+1+n]
		raw = raw[i+1+n:]
	}
	return out, nil
})

// KnownM4 returns the upstream m4 files kensa knows under name ("pkg.m4"), one per
// serial and content.
func KnownM4(name string) []M4File {
	k, err := m4Known()
	if err != nil {
		return nil
	}
	return k[name]
}

// knownM4Name reports whether name is the name of an upstream macro file, and the
// package of its first entry.
func knownM4Name(name string) (string, bool) {
	fs := KnownM4(name)
	if len(fs) == 0 {
		return "", false
	}
	pkg, _, _ := strings.Cut(fs[0].Origin, " ")
	return pkg, true
}

// checkM4 applies drift/m4-serial-mismatch and drift/m4-unknown-serial to one m4 file.
func checkM4(p string, data []byte) ([]result.Finding, error) {
	s, ok := m4serial.Find(data)
	if !ok {
		return nil, nil
	}
	claimed := s.Name
	if claimed == "" {
		claimed = baseName(p)
	}
	if _, err := m4Known(); err != nil {
		return nil, err
	}
	var same []M4File
	for _, f := range KnownM4(claimed) {
		if f.Serial == s.Number {
			same = append(same, f)
		}
	}
	serialLine := fmt.Sprintf("%s:%d: %s", p, s.Line, lineAt(data, s.Line))
	if len(same) == 0 {
		return []result.Finding{{
			Rule: RuleM4UnknownSerial, Severity: result.Info, Path: p,
			Message:  fmt.Sprintf("%s serial %s is not an upstream macro file kensa knows; its content was not checked against upstream", claimed, s.Number),
			Evidence: []string{serialLine},
		}}, nil
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	for _, f := range same {
		if f.SHA256 == sum {
			return nil, nil
		}
	}
	contents, err := m4Contents()
	if err != nil {
		return nil, err
	}
	// Compare with the candidate that agrees longest.
	best, bestLine, bestUp, bestRel := same[0], -1, "", ""
	for _, f := range same {
		n, up, rel := firstDiff(contents[f.SHA256], data)
		if n > bestLine {
			best, bestLine, bestUp, bestRel = f, n, up, rel
		}
	}
	ev := []string{
		serialLine,
		fmt.Sprintf("upstream %s serial %s: %s, sha256 %s", best.Name, best.Serial, best.Origin, best.SHA256),
		fmt.Sprintf("this file: %d lines, sha256 %s; upstream: %d lines", bytes.Count(data, []byte("\n")), sum, best.Lines),
		fmt.Sprintf("first differing line %d: this file %q, upstream %q", bestLine, bestRel, bestUp),
	}
	return []result.Finding{{
		Rule: RuleM4SerialMismatch, Severity: result.High, Path: p,
		Message:  fmt.Sprintf("claims to be upstream %s serial %s (%s) but its content differs from it", claimed, s.Number, strings.SplitN(best.Origin, " ", 3)[0]),
		Evidence: ev,
	}}, nil
}

// firstDiff returns the 1-based number of the first line where a and b differ, and the
// two lines (empty past the end), each cut to 160 bytes.
func firstDiff(a, b []byte) (int, string, string) {
	n := 1
	for {
		la, ra, oka := cutLine(a)
		lb, rb, okb := cutLine(b)
		if !oka && !okb {
			return n, "", ""
		}
		if !bytes.Equal(la, lb) || oka != okb {
			return n, clip(string(la)), clip(string(lb))
		}
		a, b, n = ra, rb, n+1
	}
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, true
}

func lineAt(b []byte, n int) string {
	for i := 1; ; i++ {
		l, rest, ok := cutLine(b)
		if !ok {
			return ""
		}
		if i == n {
			return clip(string(l))
		}
		b = rest
	}
}

func clip(s string) string {
	const max = 160
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
