package checksums

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
)

// MaxManifestSize bounds the bytes of one manifest file. The SHA256SUMS of a full Linux
// distribution mirror stays well below it; a larger file is refused unread.
const MaxManifestSize = 16 << 20

// MaxLineLength bounds one manifest line, escapes included: a PATH_MAX (4096 bytes) name
// escaped to twice its size, a 128-digit digest and a tag fit with room to spare.
const MaxLineLength = 16 << 10

// MaxEntries bounds the entries of one manifest.
const MaxEntries = 200_000

// Algorithm names a digest algorithm a manifest may use.
type Algorithm string

// The algorithms a manifest may use. Others (MD5, SHA-1, …) are refused.
const (
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

// hexLen is the length in hex digits of each algorithm's digest.
func (a Algorithm) hexLen() int {
	if a == SHA512 {
		return 128
	}
	return 64
}

// Entry is one line of a manifest: a file and its expected digest.
type Entry struct {
	// Name is the file's path relative to the manifest's directory, cleaned and
	// slash-separated, with escapes undone (it may hold a newline or a backslash).
	Name string
	// Algorithm is SHA256 or SHA512.
	Algorithm Algorithm
	// Digest is the expected digest in lowercase hex.
	Digest string
	// Line is the 1-based line of the entry in the manifest (in the signed text of a
	// clearsigned manifest).
	Line int
}

// Manifest is a parsed checksum manifest.
type Manifest struct {
	// Name is the manifest's file name as given to Parse.
	Name string
	// Entries lists the files in the order of the manifest.
	Entries []Entry
	// Clearsigned is true when the manifest is an OpenPGP clearsigned message; Entries
	// then come from the signed text only.
	Clearsigned bool
	// Bare is true for a one-file manifest holding only a digest (as in
	// "app.tar.gz.sha256" holding only the digest of app.tar.gz); its single entry names
	// the manifest's file name without the extension.
	Bare bool

	signed      []byte   // the bytes the clearsign signature covers
	signature   []byte   // the clearsign signature packets
	hashHeaders []string // the clearsign "Hash:" header values
}

// ParseError is a manifest that cannot be read; Line is 0 when it is not about one line.
type ParseError struct {
	Manifest string
	Line     int
	Msg      string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("checksum manifest %s, line %d: %s", e.Manifest, e.Line, e.Msg)
	}
	return fmt.Sprintf("checksum manifest %s: %s", e.Manifest, e.Msg)
}

const clearsignHeader = "-----BEGIN PGP SIGNED MESSAGE-----"

// isClearsigned tells whether data is an OpenPGP clearsigned message.
func isClearsigned(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(clearsignHeader))
}

// Parse reads a checksum manifest. name is the manifest's file name, used in errors and
// to name the entry of a bare-digest manifest ("app.tar.gz.sha256").
//
// Accepted line forms (CRLF line ends, blank lines and lines starting with '#' are
// allowed; hex digits in either case):
//
//	HEX  name            GNU coreutils, text mode
//	HEX *name            GNU coreutils, binary mode
//	HEX name             BSD "sha256 -r"; not mixed with the two forms above
//	\HEX  a\nb\\c        GNU escaped form: "\\", "\n" and "\r" in the name
//	SHA256 (name) = HEX  BSD tagged form ("sha256sum --tag"), also SHA512 and "\SHA256 (…"
//
// Untagged lines are sha256 or sha512 by digest length and must all use one of them; only
// tagged lines may mix the two. A manifest whose name says sha256 or sha512 must hold
// only that algorithm. A whole file that is an OpenPGP clearsigned message is parsed from
// its signed text, and nothing but white space may surround the message.
//
// Parse refuses, naming the line: malformed lines, other algorithms, a name listed twice
// for one algorithm with different digests, absolute names and names that leave the
// manifest's directory with "..". It never panics.
func Parse(name string, data []byte) (m *Manifest, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, &ParseError{Manifest: name, Msg: fmt.Sprintf("internal error while parsing (%v); please report it with the manifest", r)}
		}
	}()
	if len(data) > MaxManifestSize {
		return nil, &ParseError{Manifest: name, Msg: fmt.Sprintf("larger than %d bytes; kensa does not read manifests this large", MaxManifestSize)}
	}
	m = &Manifest{Name: name}
	text := data
	if isClearsigned(data) {
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		block, rest := clearsign.Decode(trimmed)
		if block == nil || block.ArmoredSignature == nil {
			return nil, &ParseError{Manifest: name, Msg: "malformed OpenPGP clearsigned message (a header other than Hash, or no signature block)"}
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, &ParseError{Manifest: name, Msg: "data after the end of the OpenPGP clearsigned message; only the signed text may list files"}
		}
		sig, err := io.ReadAll(io.LimitReader(block.ArmoredSignature.Body, MaxSignatureSize+1))
		if err != nil {
			return nil, &ParseError{Manifest: name, Msg: "unreadable signature block of the clearsigned message: " + err.Error()}
		}
		if len(sig) > MaxSignatureSize {
			return nil, &ParseError{Manifest: name, Msg: fmt.Sprintf("signature block larger than %d bytes", MaxSignatureSize)}
		}
		m.Clearsigned = true
		m.signed = block.Bytes
		m.signature = sig
		m.hashHeaders = block.Headers.Values("Hash")
		text = block.Plaintext
	}
	p := parser{m: m, name: name, seen: map[entryKey]int{}}
	if err := p.parse(text); err != nil {
		return nil, err
	}
	return m, nil
}

type entryKey struct {
	name string
	alg  Algorithm
}

type parser struct {
	m        *Manifest
	name     string
	seen     map[entryKey]int // index into m.Entries
	untagged Algorithm        // algorithm of the untagged lines so far
	reversed int              // 0 unknown, 1 "HEX name" lines, 2 "HEX  name" / "HEX *name" lines
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{Manifest: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(text []byte) error {
	lines := 0
	var content [][]byte // non-comment lines, for the bare-digest check
	var contentLine []int
	for len(text) > 0 {
		lines++
		var line []byte
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, nil
		}
		if len(line) > MaxLineLength {
			return p.errorf(lines, "longer than %d bytes", MaxLineLength)
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		content = append(content, line)
		contentLine = append(contentLine, lines)
	}
	if len(content) == 0 {
		return p.errorf(0, "lists no files")
	}
	if len(content) == 1 {
		alg, base, ok := bareDigestName(p.name)
		if c, err := cleanName(base); ok && err == nil && c == base && isHex(content[0], alg.hexLen()) {
			p.m.Bare = true
			p.m.Entries = []Entry{{Name: base, Algorithm: alg, Digest: strings.ToLower(string(content[0])), Line: contentLine[0]}}
			return nil
		}
	}
	for i, line := range content {
		if err := p.line(contentLine[i], string(line)); err != nil {
			return err
		}
	}
	return nil
}

// line parses one non-blank, non-comment line.
func (p *parser) line(n int, line string) error {
	escaped := false
	if strings.HasPrefix(line, `\`) {
		escaped = true
		line = line[1:]
	}
	var (
		alg       Algorithm
		digest    string
		name      string
		err       error
		hexFirst  = strings.IndexByte(line, ' ')
		firstWord = line
	)
	if hexFirst >= 0 {
		firstWord = line[:hexFirst]
	}
	if hexFirst > 0 && (len(firstWord) == 64 || len(firstWord) == 128) && isHex([]byte(firstWord), len(firstWord)) {
		alg, digest, name, err = p.untaggedLine(n, line, hexFirst)
	} else {
		alg, digest, name, err = p.taggedLine(n, line)
	}
	if err != nil {
		return err
	}
	if escaped {
		if name, err = unescape(name); err != nil {
			return p.errorf(n, "%v", err)
		}
	}
	clean, err := cleanName(name)
	if err != nil {
		return p.errorf(n, "%v", err)
	}
	if want := nameAlgorithm(p.name); want != "" && want != alg {
		return p.errorf(n, "%s digest in a manifest named for %s", alg, want)
	}
	key := entryKey{clean, alg}
	if i, dup := p.seen[key]; dup {
		first := p.m.Entries[i]
		if first.Digest != digest {
			return p.errorf(n, "%q is listed again with a different %s digest (first on line %d); the manifest contradicts itself", clean, alg, first.Line)
		}
		return nil
	}
	if len(p.m.Entries) >= MaxEntries {
		return p.errorf(n, "more than %d entries; kensa does not read manifests this large", MaxEntries)
	}
	p.seen[key] = len(p.m.Entries)
	p.m.Entries = append(p.m.Entries, Entry{Name: clean, Algorithm: alg, Digest: digest, Line: n})
	return nil
}

// untaggedLine parses "HEX  name", "HEX *name" or "HEX name"; sp is the index of the
// space after the digest.
func (p *parser) untaggedLine(n int, line string, sp int) (Algorithm, string, string, error) {
	digest := strings.ToLower(line[:sp])
	alg := SHA256
	if len(digest) == 128 {
		alg = SHA512
	}
	if p.untagged != "" && p.untagged != alg {
		return "", "", "", p.errorf(n, "%s digest after %s digests; only the tagged form (SHA256 (name) = …) may mix algorithms", alg, p.untagged)
	}
	p.untagged = alg
	rest := line[sp+1:]
	form := 1
	if len(rest) > 1 && (rest[0] == ' ' || rest[0] == '*') {
		form = 2
		rest = rest[1:]
	}
	if p.reversed != 0 && p.reversed != form {
		return "", "", "", p.errorf(n, `mixes "HEX name" lines with "HEX  name" lines; a name's leading space or '*' would be ambiguous`)
	}
	p.reversed = form
	if rest == "" {
		return "", "", "", p.errorf(n, "no file name after the digest")
	}
	return alg, digest, rest, nil
}

// taggedLine parses "TAG (name) = HEX" (also "TAG(name)= HEX" as OpenSSL writes it).
func (p *parser) taggedLine(n int, line string) (Algorithm, string, string, error) {
	open := strings.IndexByte(line, '(')
	closeEq := strings.LastIndex(line, ")")
	if open <= 0 || closeEq < open {
		return "", "", "", p.errorf(n, `malformed line: expected "HEX  name" or "SHA256 (name) = HEX"`)
	}
	tag := strings.TrimSuffix(line[:open], " ")
	after := strings.TrimLeft(line[closeEq+1:], " ")
	if !strings.HasPrefix(after, "=") {
		return "", "", "", p.errorf(n, `malformed line: expected "HEX  name" or "SHA256 (name) = HEX"`)
	}
	digest := strings.TrimLeft(after[1:], " ")
	var alg Algorithm
	switch strings.ToUpper(tag) {
	case "SHA256", "SHA2-256":
		alg = SHA256
	case "SHA512", "SHA2-512":
		alg = SHA512
	default:
		for _, c := range tag {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '/') {
				return "", "", "", p.errorf(n, `malformed line: expected "HEX  name" or "SHA256 (name) = HEX"`)
			}
		}
		return "", "", "", p.errorf(n, "algorithm %q is not accepted; kensa verifies SHA256 and SHA512 manifests only", tag)
	}
	if !isHex([]byte(digest), alg.hexLen()) {
		return "", "", "", p.errorf(n, "the %s digest is not %d hex digits", alg, alg.hexLen())
	}
	return alg, strings.ToLower(digest), line[open+1 : closeEq], nil
}

// isHex reports whether b is exactly n hex digits.
func isHex(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	_, err := hex.DecodeString(string(b))
	return err == nil
}

// unescape undoes the escapes of coreutils' escaped lines: \\, \n and \r.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf("the escaped name ends with a lone backslash")
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf(`unknown escape "\%c" in the name (only \\, \n and \r exist)`, s[i])
		}
	}
	return b.String(), nil
}

// cleanName checks that a listed name stays inside the manifest's directory and returns
// it cleaned.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("empty file name")
	case strings.IndexByte(name, 0) >= 0:
		return "", fmt.Errorf("the file name holds a NUL byte")
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("absolute path %q; names must be relative to the manifest's directory", name)
	case len(name) >= 3 && name[1] == ':' && (name[2] == '/' || name[2] == '\\') &&
		(name[0] >= 'A' && name[0] <= 'Z' || name[0] >= 'a' && name[0] <= 'z'):
		return "", fmt.Errorf("absolute Windows path %q; names must be relative to the manifest's directory", name)
	}
	c := path.Clean(name)
	if c == "." {
		return "", fmt.Errorf("%q names the manifest's directory, not a file", name)
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q leaves the manifest's directory with \"..\"", name)
	}
	return c, nil
}

// nameAlgorithm returns the algorithm a manifest's file name announces, if exactly one.
func nameAlgorithm(name string) Algorithm {
	l := strings.ToLower(baseName(name))
	has256, has512 := strings.Contains(l, "sha256"), strings.Contains(l, "sha512")
	switch {
	case has256 && !has512:
		return SHA256
	case has512 && !has256:
		return SHA512
	}
	return ""
}

// bareDigestName returns, for a one-file manifest name such as "app.tar.gz.sha256", the
// algorithm and the name of the file it is about.
func bareDigestName(name string) (Algorithm, string, bool) {
	base := baseName(name)
	l := strings.ToLower(base)
	for _, s := range []struct {
		ext string
		alg Algorithm
	}{{".sha256", SHA256}, {".sha256sum", SHA256}, {".sha512", SHA512}, {".sha512sum", SHA512}} {
		if strings.HasSuffix(l, s.ext) && len(base) > len(s.ext) {
			return s.alg, base[:len(base)-len(s.ext)], true
		}
	}
	return "", "", false
}
