// Package strings finds the printable strings of a file the way GNU strings does with
// `strings -a -n 6` (ASCII) and `strings -a -n 6 -e l` (UTF-16LE), in one streaming pass
// over the bytes, and draws indicators from them: URLs, domains, IP addresses, e-mail
// addresses, Tor onion addresses, long base64 and hex blobs, private keys and
// credential-shaped tokens. The same pass measures the file's entropy, whole and by region.
//
// A string is a run of at least MinLength printable characters. Printable is what GNU
// strings' STRING_ISGRAPHIC accepts without -w: tab and 0x20–0x7e. A UTF-16LE character is
// such a byte followed by a zero byte; runs are found at even and odd offsets alike.
//
// Credentials are never reported whole: secret indicators carry a redacted form (the
// fixed prefix, "…" and the length), and any string or URL that holds one has the secret
// part replaced.
//
// Indicators come from the strings of both encodings; in text files and scripts, from
// every line of the raw text instead of the ASCII strings, so that short lines and lines
// with non-ASCII characters count too. Each kind keeps at most 1000 distinct values with
// their occurrence counts and first offsets. The rules are heuristics, documented so that
// rule authors know what they get:
//
//   - URL: a scheme of 2–16 characters ([A-Za-z][A-Za-z0-9+.-]*) followed by "://" and URL
//     characters (RFC 3986 unreserved and reserved characters and %), trailing
//     punctuation trimmed. Where strings are packed back to back ("methodshttp://…"),
//     the known scheme the word ends with is kept. A host is required except for file.
//   - Domain: a dotted name of letters, digits and hyphens whose public suffix is
//     ICANN-managed (golang.org/x/net/publicsuffix, ICANN section only: "x.internal",
//     "a.local" are not domains), with a label in front of the suffix. URL hosts and
//     e-mail domains need no more. A name standing alone must also end in a lower-case
//     top-level domain that is a common generic one (com, net, org, edu, gov, mil, info,
//     biz, mobi, xyz) or a country code that is not also a common file extension (so,
//     sh, py, pl, md, in, ac, …) with a label of at least three characters in front of
//     the public suffix; it must not start with a dot (".note.gnu.property") or with a
//     word code uses for objects ("this.name", "options.host"), and must not touch an
//     underscore ("my_module.com"). "main.go", "libc.so.6", "setup.py" and "fmt.Println"
//     are not domains.
//   - IPv4: four decimal octets (0–255, no leading zeros) not inside a larger word or
//     dotted number: "v1.2.3.4", "1.2.3.4.5", "ver-1.2.3.4" and "1.2.3.4-rc1" are not
//     addresses; "version 1.2.3.4" is one (a separate word is not looked at). Every
//     address is reported, with its scope (public, private, loopback, …) as a fact.
//   - IPv6: a token of hex digits, colons and dots with at least two colons that
//     net/netip parses as an IPv6 address without a zone, not inside a word ("std::cout"),
//     with two groups or more one of which has three digits or more, or "::1".
//   - E-mail: local@domain with the domain passing the URL-host domain rule.
//   - Onion: 16 (v2) or 56 (v3) base32 characters, then ".onion".
//   - Base64: a run of at least 64 characters of the standard alphabet (padding aside)
//     that decodes, not touching an underscore, with upper case, lower case and digits in
//     the proportions encoded data has (each case at least 1/8, digits at least 1/32), less
//     than a quarter of it in runs of five or more letters of one case (words,
//     identifiers), and no alphabet table ("ABCDEFGH"). Its decoded bytes are measured
//     and sniffed (an ELF or a script hidden in base64 shows as decodedFormat).
//   - Hex: a run of at least 64 hex digits, digits and letters both present, letters of
//     one case.
//   - Secrets: PEM "BEGIN … PRIVATE KEY" blocks (OpenSSH included) and PuTTY key files
//     (their bodies redacted up to the END or Private-MAC line, or as far as the lines
//     follow each other), AWS access key ids (AKIA/ASIA + 16), GitHub tokens (ghp_, gho_,
//     ghu_, ghs_, ghr_, github_pat_), GitLab (glpat-), Slack (xoxb-, xoxa-, xoxp-, xoxr-,
//     xoxs-), Google API keys (AIza + 35), Stripe live keys (sk_live_, rk_live_), JWTs
//     (eyJ….eyJ….sig), assignments to a key containing password, passwd, passphrase,
//     secret, token or api_key with a value (password=x, passwd:x, "password": "x",
//     secret = "x"; not "password: %s", "token = next()" or "passwd: cannot open"), and
//     user:password@ in URLs.
package strings

import (
	"context"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// MinLength is the shortest run of printable characters reported as a string.
const MinLength = 6

const (
	// chunkSize is how much of the file is read at a time.
	chunkSize = 1 << 20
	// maxStrings bounds the strings listed per file.
	maxStrings = 20000
	// maxValue bounds the characters of one string's reported value.
	maxValue = 1024
	// maxPerKind bounds the distinct indicators listed per kind.
	maxPerKind = 1000
	// regionWindow is the entropy window; maxRegions bounds the windows reported.
	regionWindow = 64 << 10
	maxRegions   = 256
)

// Analyzer is the strings analyzer. It counts the strings and lists only the notable
// ones (Facts.Notable); Listing lists them all.
type Analyzer struct{}

// New returns the strings analyzer.
func New() analyzers.Analyzer { return Analyzer{} }

// Listing is the strings analyzer that also lists every string, up to 20000 per file
// (Facts.Strings): for `kensa facts`, and for rules that read strings.strings. It is a
// type of its own so that a worker process, which makes analyzers by name and type,
// never runs one in place of the other; Analyzer.Listing returns it.
type Listing struct{ Analyzer }

// ScansBytes marks the analyzer as kensa's own scanner of bytes (analyzers.Scanner): it
// runs where the bytes are, not in an analysis worker.
func (Analyzer) ScansBytes() {}

// ListField names the field of the facts that only Listing fills (analyzers.Lister).
func (Analyzer) ListField() string { return "strings" }

// Listing returns the listing strings analyzer (analyzers.Lister).
func (Analyzer) Listing() analyzers.Analyzer { return Listing{} }

// Analyze is Analyzer.Analyze with every string listed.
func (Listing) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	return analyzeWith(ctx, a, maxStrings)
}

// Name is "strings".
func (Analyzer) Name() string { return "strings" }

// Schema returns a nil *Facts.
func (Analyzer) Schema() any { return (*Facts)(nil) }

// Wants every non-empty file except archive containers and compressed streams, whose
// members are analyzed on their own.
func (Analyzer) Wants(a *analyzers.Artifact) bool {
	if a == nil || a.Size == 0 {
		return false
	}
	switch a.Format {
	case sniff.Empty, sniff.Tar, sniff.Zip, sniff.Jar, sniff.Ar, sniff.Deb, sniff.RPM,
		sniff.Cpio, sniff.Gzip, sniff.Bzip2, sniff.XZ, sniff.LZMA, sniff.Zstd,
		sniff.SevenZip, sniff.Cab, sniff.RAR, sniff.Squashfs, sniff.ISO9660:
		return false
	}
	return true
}

// Analyze reads a's content once, in chunks, and returns its *Facts. A read error returns
// the facts gathered up to it with the error.
func (Analyzer) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	return analyzeWith(ctx, a, 0)
}

func analyzeWith(ctx context.Context, a *analyzers.Artifact, list int) (any, error) {
	text := a.Format == sniff.Text || a.Format == sniff.Script
	s := newScanner(a.Size, text, list)
	err := s.run(ctx, a.Content)
	return s.facts(), err
}
