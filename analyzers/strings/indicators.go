package strings

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"sort"
	"strconv"
	gostrings "strings"

	"golang.org/x/net/publicsuffix"

	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/sniff"
)

const (
	// minBlob is the shortest base64 or hex run reported.
	minBlob = 64
	// maxIndicatorValue bounds the characters of a reported indicator value.
	maxIndicatorValue = 512
	// maxToken bounds the characters of a credential token looked at.
	maxToken = 4096
	// maxPassword bounds the characters of an assigned password looked at.
	maxPassword = 256
	// maxSpans bounds the secret spans remembered for redacting strings; past it every
	// later string is redacted whole.
	maxSpans = 4096
	// maxSpan bounds one secret span (longer secrets are remembered as several spans).
	maxSpan = 64 << 10
	// maxKeyBlock bounds how far a private key block that has no END line reaches.
	maxKeyBlock = 1 << 20
)

// Indicator kinds.
const (
	kindURL      = "url"
	kindDomain   = "domain"
	kindIPv4     = "ipv4"
	kindIPv6     = "ipv6"
	kindEmail    = "email"
	kindOnion    = "onion"
	kindBase64   = "base64"
	kindHex      = "hex"
	kindKey      = "private-key"
	kindAWS      = "aws-access-key-id"
	kindGitHub   = "github-token"
	kindGitLab   = "gitlab-token"
	kindSlack    = "slack-token"
	kindGoogle   = "google-api-key"
	kindStripe   = "stripe-secret-key"
	kindJWT      = "jwt"
	kindPassword = "password"
	kindURLCreds = "url-credentials"
)

// span is a secret's bytes in the file, and what replaces them.
type span struct {
	start, end int64
	repl       string
}

// rng is a secret or URL within the text being scanned.
type rng struct {
	s, e   int
	secret bool
	repl   string
}

type kindList struct {
	items     []Indicator
	index     map[string]int
	occ       int64
	truncated bool
}

// keyBlock is a private key whose END marker has not been seen yet. Its body is the
// texts that follow it back to back (a line break or a few short lines apart).
type keyBlock struct {
	open    bool
	start   int64
	lastEnd int64 // file offset just past the last text of the block
	end     []byte
	repl    string
	pem     bool // the body lines must be base64 or PEM header lines
}

// maxKeyGap is how many bytes (per character) may separate two texts of a key block.
const maxKeyGap = 16

type extractor struct {
	lists      map[string]*kindList
	spans      []span
	redactFrom int64
	keys       [2]keyBlock

	// per scan
	t        []byte
	base     int64
	stride   int64
	enc      string
	skip     int
	limit    int
	cover    []rng // settled: sorted by start
	coverMax []int // coverMax[i] is the largest end of cover[:i+1]
	pending  []rng // added by the detector running now
	dec      []byte
}

func newExtractor() *extractor {
	return &extractor{lists: map[string]*kindList{}, redactFrom: -1}
}

// class bits of bytes, for a quick look at what a text may hold.
const (
	cDot = 1 << iota
	cColon
	cAt
	cEq
	cDash
)

var classOf = func() (t [256]uint8) {
	t['.'] = cDot
	t[':'] = cColon
	t['@'] = cAt
	t['='] = cEq
	t['-'] = cDash
	return
}()

// Byte classes, looked up in ctype.
const (
	tAlpha = 1 << iota
	tDigit
	tHex
	tB64  // standard base64 alphabet, without padding
	tHost // letters, digits, '-' and '.'
	tURL  // RFC 3986 unreserved and reserved characters and %, less the quote
)

var ctype = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') {
			t[c] |= tAlpha | tB64 | tHost | tURL
		}
		if b >= '0' && b <= '9' {
			t[c] |= tDigit | tHex | tB64 | tHost | tURL
		}
		if (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			t[c] |= tHex
		}
	}
	t['+'] |= tB64
	t['/'] |= tB64
	t['-'] |= tHost
	t['.'] |= tHost
	for _, c := range []byte("-._~:/?#[]@!$&()*+,;=%") {
		t[c] |= tURL
	}
	return
}()

func isAlpha(c byte) bool    { return ctype[c]&tAlpha != 0 }
func isDigit(c byte) bool    { return ctype[c]&tDigit != 0 }
func isAlnum(c byte) bool    { return ctype[c]&(tAlpha|tDigit) != 0 }
func isHexDigit(c byte) bool { return ctype[c]&tHex != 0 }
func isB64(c byte) bool      { return ctype[c]&tB64 != 0 }
func isHostChar(c byte) bool { return ctype[c]&tHost != 0 }
func isWordChar(c byte) bool { return ctype[c]&(tAlpha|tDigit) != 0 || c == '_' }
func isURLChar(c byte) bool  { return ctype[c]&tURL != 0 }

// scan draws the indicators from t, the characters of one string or line (or a segment of
// a long one) whose first byte is at file offset base; each character spans stride bytes.
// Matches that end within the first skip characters were reported with the previous
// segment; when more follows, matches that end in the last segOverlap/2 characters are
// left to the next segment, which holds them whole.
func (e *extractor) scan(t []byte, base, stride int64, enc string, skip int, more bool) {
	e.t, e.base, e.stride, e.enc, e.skip = t, base, stride, enc, skip
	e.limit = len(t)
	if more {
		e.limit = len(t) - segOverlap/2
	}
	e.cover, e.pending, e.coverMax = e.cover[:0], e.pending[:0], e.coverMax[:0]
	start := 0
	kb := &e.keys[0]
	if enc == encUTF16 {
		kb = &e.keys[1]
	}
	if kb.open {
		idx := bytes.Index(t, kb.end)
		body := idx
		if idx < 0 {
			body = len(t)
		}
		gap := base - kb.lastEnd
		if gap < 0 || gap > maxKeyGap*stride || (kb.pem && !pemBody(t[:body])) || e.abs(body)-kb.start > maxKeyBlock {
			// Not the key's body: the key ended before this text.
			e.addSpan(kb.start, kb.lastEnd, kb.repl)
			kb.open = false
		} else if idx < 0 {
			e.addCover(rng{s: 0, e: len(t), secret: true, repl: kb.repl})
			kb.lastEnd = e.abs(len(t))
			return
		} else {
			e.addSpan(kb.start, e.abs(idx), kb.repl)
			kb.open = false
			e.addCover(rng{s: 0, e: idx, secret: true, repl: kb.repl})
			start = idx
		}
	}
	e.settle()
	var cls uint8
	for _, c := range t[start:] {
		cls |= classOf[c]
	}
	// Each detector sees what the detectors before it found (settle): secrets first, so
	// that URLs and blobs are redacted or skipped where they hold one.
	if cls&cDash != 0 || bytes.Contains(t, []byte("PuTTY-User-Key-File-")) {
		e.privateKeys(t, start, kb)
		e.settle()
	}
	if len(t) >= 15 {
		e.tokens(t)
		e.settle()
	}
	if cls&(cEq|cColon) != 0 {
		e.passwords(t)
		e.settle()
	}
	if cls&cColon != 0 {
		e.urlCredentials(t)
		e.settle()
		e.urls(t)
		e.settle()
	}
	if cls&cAt != 0 && cls&cDot != 0 {
		e.emails(t)
		e.settle()
	}
	if cls&cDot != 0 {
		e.dotted(t)
	}
	if cls&cColon != 0 {
		e.ipv6(t)
	}
	if len(t) >= minBlob {
		e.blobs(t)
	}
}

// addCover adds a secret or URL range, seen by the detectors that run after this one.
func (e *extractor) addCover(r rng) { e.pending = append(e.pending, r) }

// settle makes the ranges the last detector added visible to covered and redactText.
func (e *extractor) settle() {
	if len(e.pending) == 0 {
		return
	}
	e.cover = append(e.cover, e.pending...)
	e.pending = e.pending[:0]
	sort.Slice(e.cover, func(i, j int) bool { return e.cover[i].s < e.cover[j].s })
	e.coverMax = e.coverMax[:0]
	m := 0
	for _, r := range e.cover {
		m = max(m, r.e)
		e.coverMax = append(e.coverMax, m)
	}
}

func (e *extractor) abs(i int) int64 { return e.base + int64(i)*e.stride }

// reports tells whether a match ending at t[x] is this segment's to report.
func (e *extractor) reports(x int) bool { return x > e.skip && x <= e.limit }

// covered reports whether [s, x) overlaps a secret or URL found by an earlier detector:
// whether a range starting before x ends after s.
func (e *extractor) covered(s, x int) bool {
	n := sort.Search(len(e.cover), func(i int) bool { return e.cover[i].s >= x })
	return n > 0 && e.coverMax[n-1] > s
}

// addSpan remembers a secret's bytes for the redaction of the strings.
func (e *extractor) addSpan(start, end int64, repl string) {
	for start < end {
		if len(e.spans) >= maxSpans {
			if e.redactFrom < 0 || start < e.redactFrom {
				e.redactFrom = start
			}
			return
		}
		x := min(end, start+maxSpan)
		e.spans = append(e.spans, span{start, x, repl})
		start = x
	}
}

// spanText remembers the secret at t[s:x] and covers it.
func (e *extractor) spanText(s, x int, repl string) {
	e.addSpan(e.abs(s), e.abs(x), repl)
}

// secret records a secret found at t[s:x] whose secret part is t[vs:ve]; repl is the
// redacted form of t[s:x].
func (e *extractor) secret(s, x, vs, ve int, kind, repl string, key []byte) {
	e.addCover(rng{s: s, e: x, secret: true, repl: repl})
	if vs == s && ve == x {
		e.spanText(vs, ve, repl)
	} else {
		e.spanText(vs, ve, redacted("", ve-vs))
	}
	if !e.reports(x) {
		return
	}
	h := sha256.Sum256(append([]byte(kind+"\x00"), key...))
	e.add(listOf(kind), string(h[:]), s, Indicator{Kind: kind, Value: repl, Redacted: true, Length: ve - vs})
}

func listOf(kind string) string {
	switch kind {
	case kindURL, kindDomain, kindIPv4, kindIPv6, kindEmail, kindOnion, kindBase64, kindHex:
		return kind
	}
	return "secret"
}

// add counts one occurrence of an indicator at t[s:].
func (e *extractor) add(list, key string, s int, ind Indicator) {
	l := e.lists[list]
	if l == nil {
		l = &kindList{index: map[string]int{}}
		e.lists[list] = l
	}
	l.occ++
	if i, ok := l.index[key]; ok {
		l.items[i].Count++
		return
	}
	if len(l.items) >= maxPerKind {
		l.truncated = true
		return
	}
	ind.Offset = e.abs(s)
	ind.Encoding = e.enc
	ind.Count = 1
	if len(ind.Value) > maxIndicatorValue {
		ind.Value = ind.Value[:maxIndicatorValue]
	}
	l.index[key] = len(l.items)
	l.items = append(l.items, ind)
}

func redacted(prefix string, n int) string {
	return prefix + "…(" + strconv.Itoa(n) + " chars)"
}

// privateKeys finds PEM private keys and PuTTY key files; their bodies are secret.
func (e *extractor) privateKeys(t []byte, from int, kb *keyBlock) {
	for i := from; i < len(t); {
		k := bytes.Index(t[i:], []byte("-----BEGIN "))
		if k < 0 {
			break
		}
		k += i
		hs := k + len("-----BEGIN ")
		he := bytes.Index(t[hs:min(len(t), hs+64)], []byte("-----"))
		if he < 0 {
			i = hs
			continue
		}
		label := t[hs : hs+he]
		if !bytes.HasSuffix(label, []byte("PRIVATE KEY")) && !bytes.Equal(label, []byte("PGP PRIVATE KEY BLOCK")) {
			i = hs
			continue
		}
		hdrEnd := hs + he + 5
		header := "-----BEGIN " + string(label) + "-----"
		repl := "[" + string(label) + " redacted]"
		e.addCover(rng{s: k, e: hdrEnd, secret: true, repl: header})
		if e.reports(hdrEnd) {
			e.add("secret", "key\x00"+header, k, Indicator{Kind: kindKey, Value: header, Redacted: true})
		}
		ee := bytes.Index(t[hdrEnd:], []byte("-----END"))
		if ee < 0 {
			e.addCover(rng{s: hdrEnd, e: len(t), secret: true, repl: repl})
			*kb = keyBlock{open: true, start: e.abs(hdrEnd), lastEnd: e.abs(len(t)), end: []byte("-----END"), repl: repl, pem: true}
			return
		}
		e.addCover(rng{s: hdrEnd, e: hdrEnd + ee, secret: true, repl: repl})
		e.spanText(hdrEnd, hdrEnd+ee, repl)
		i = hdrEnd + ee + 8
	}
	if k := bytes.Index(t, []byte("PuTTY-User-Key-File-")); k >= 0 && !e.covered(k, k+1) {
		// "PuTTY-User-Key-File-3: ssh-ed25519"
		x := k + len("PuTTY-User-Key-File-")
		if x+3 >= len(t) || !isDigit(t[x]) || t[x+1] != ':' || t[x+2] != ' ' || !isAlpha(t[x+3]) {
			return
		}
		x += 3
		for x < len(t) && x-k < 80 && (isAlnum(t[x]) || t[x] == '-' || t[x] == '@' || t[x] == '.') {
			x++
		}
		header := string(t[k:x])
		repl := "[PuTTY private key redacted]"
		if e.reports(x) {
			e.add("secret", "key\x00"+header, k, Indicator{Kind: kindKey, Value: header, Redacted: true})
		}
		if m := bytes.Index(t[x:], []byte("Private-MAC:")); m >= 0 {
			e.addCover(rng{s: x, e: x + m, secret: true, repl: repl})
			e.spanText(x, x+m, repl)
		} else {
			e.addCover(rng{s: x, e: len(t), secret: true, repl: repl})
			*kb = keyBlock{open: true, start: e.abs(x), lastEnd: e.abs(len(t)), end: []byte("Private-MAC:"), repl: repl}
		}
	}
}

// pemBody reports whether t can be lines of a PEM body: base64, or "Proc-Type:" and
// "DEK-Info:" header lines.
func pemBody(t []byte) bool {
	if bytes.HasPrefix(t, []byte("Proc-Type:")) || bytes.HasPrefix(t, []byte("DEK-Info:")) {
		return true
	}
	for _, c := range t {
		if !isB64(c) && c != '=' && c != '\\' && c != '\r' {
			return false
		}
	}
	return true
}

// tokenRule is one credential token format: prefix then body characters.
type tokenRule struct {
	prefix   string
	kind     string
	body     func(byte) bool
	min, max int // body length
}

func upperDigit(c byte) bool  { return (c >= 'A' && c <= 'Z') || isDigit(c) }
func alnumUS(c byte) bool     { return isAlnum(c) || c == '_' }
func alnumDash(c byte) bool   { return isAlnum(c) || c == '-' }
func alnumUSDash(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

var tokenRules = []tokenRule{
	{"AKIA", kindAWS, upperDigit, 16, 16},
	{"ASIA", kindAWS, upperDigit, 16, 16},
	{"ghp_", kindGitHub, isAlnum, 30, 255},
	{"gho_", kindGitHub, isAlnum, 30, 255},
	{"ghu_", kindGitHub, isAlnum, 30, 255},
	{"ghs_", kindGitHub, isAlnum, 30, 255},
	{"ghr_", kindGitHub, isAlnum, 30, 255},
	{"github_pat_", kindGitHub, alnumUS, 22, 255},
	{"glpat-", kindGitLab, alnumUSDash, 20, 255},
	{"xoxb-", kindSlack, alnumDash, 10, 255},
	{"xoxa-", kindSlack, alnumDash, 10, 255},
	{"xoxp-", kindSlack, alnumDash, 10, 255},
	{"xoxr-", kindSlack, alnumDash, 10, 255},
	{"xoxs-", kindSlack, alnumDash, 10, 255},
	{"AIza", kindGoogle, alnumUSDash, 35, 35},
	{"sk_live_", kindStripe, isAlnum, 24, 255},
	{"rk_live_", kindStripe, isAlnum, 24, 255},
}

// tokenStart marks the first bytes of the token prefixes; rulesByFirst lists the rules
// by the first byte of their prefix.
var (
	tokenStart   [256]bool
	rulesByFirst [256][]tokenRule
)

func init() {
	for _, r := range tokenRules {
		tokenStart[r.prefix[0]] = true
		rulesByFirst[r.prefix[0]] = append(rulesByFirst[r.prefix[0]], r)
	}
	tokenStart['e'] = true // JWT
}

// tokens finds credential tokens: fixed prefixes, and JWTs.
func (e *extractor) tokens(t []byte) {
	for i := 0; i+15 <= len(t); i++ {
		if !tokenStart[t[i]] || (i > 0 && isWordChar(t[i-1])) {
			continue
		}
		if t[i] == 'e' {
			if x := jwtEnd(t, i); x > 0 {
				if !e.covered(i, x) {
					e.secret(i, x, i, x, kindJWT, redacted("eyJ", x-i), t[i:x])
				}
				i = x
			}
			continue
		}
		for _, r := range rulesByFirst[t[i]] {
			if !bytes.HasPrefix(t[i:], []byte(r.prefix)) {
				continue
			}
			b := i + len(r.prefix)
			x := b
			for x < len(t) && x-b <= r.max && r.body(t[x]) {
				x++
			}
			n := x - b
			if n < r.min || n > r.max || (x < len(t) && isAlnum(t[x])) {
				continue
			}
			if !e.covered(i, x) {
				e.secret(i, x, i, x, r.kind, redacted(r.prefix, x-i), t[i:x])
			}
			i = x
			break
		}
	}
}

// jwtEnd returns the end of a JWT starting at t[i] ("eyJ….eyJ….sig"), or 0.
func jwtEnd(t []byte, i int) int {
	part := func(p int) int {
		x := p
		for x < len(t) && x-p < maxToken && alnumUSDash(t[x]) {
			x++
		}
		return x
	}
	if !bytes.HasPrefix(t[i:], []byte("eyJ")) {
		return 0
	}
	a := part(i)
	if a-i < 10 || a >= len(t) || t[a] != '.' || !bytes.HasPrefix(t[a+1:], []byte("eyJ")) {
		return 0
	}
	b := part(a + 1)
	if b-(a+1) < 10 || b >= len(t) || t[b] != '.' {
		return 0
	}
	return part(b + 1)
}

var passwordKeys = []string{"password", "passwd", "passphrase", "secret", "token", "api_key", "apikey", "api-key"}

// placeholder values are not passwords.
var placeholder = map[string]bool{
	"null": true, "none": true, "nil": true, "true": true, "false": true, "undefined": true,
	"required": true, "empty": true, "string": true,
}

func isKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// passwordKey reports whether key (a word before = or :) names a password or secret:
// one of passwordKeys, not run on by letters ("tokenizer", "passwordHash"), with any
// prefix ("db_password", "client_secret").
func passwordKey(key []byte) bool {
	var buf [40]byte
	if len(key) > len(buf) {
		return false
	}
	lw := buf[:len(key)]
	for i, c := range key {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lw[i] = c
	}
	for _, kw := range passwordKeys {
		for i := 0; i+len(kw) <= len(lw); i++ {
			if string(lw[i:i+len(kw)]) != kw {
				continue
			}
			if (i == 0 || !isAlpha(lw[i-1])) && (i+len(kw) == len(lw) || !isAlpha(lw[i+len(kw)])) {
				return true
			}
		}
	}
	return false
}

// passwords finds key=value and key: value assignments of passwords and secrets:
// key=value and key:value, key = "value" and "key": "value"; not key = value (code) nor
// key: value (prose).
func (e *extractor) passwords(t []byte) {
	for x := 0; x < len(t); x++ {
		sep := t[x]
		if sep != '=' && sep != ':' {
			continue
		}
		// The key before the separator, past spaces and a closing quote.
		k := x
		spacedKey := false
		for k > 0 && t[k-1] == ' ' {
			k--
			spacedKey = true
		}
		if k > 0 && (t[k-1] == '"' || t[k-1] == '\'') {
			k--
		}
		ke := k
		for k > 0 && ke-k < 40 && isKeyChar(t[k-1]) {
			k--
		}
		if k == ke || (k > 0 && isKeyChar(t[k-1])) || !passwordKey(t[k:ke]) {
			continue
		}
		var vs int
		switch {
		case sep == '=' && (x+1 >= len(t) || t[x+1] != '='):
			vs = x + 1
		case sep == ':' && x+1 < len(t) && t[x+1] == '=':
			vs = x + 2
		case sep == ':':
			vs = x + 1
		default:
			continue
		}
		sepEnd := vs
		spaced := false
		for vs < len(t) && (t[vs] == ' ' || t[vs] == '\t') {
			vs++
			spaced = true
		}
		if vs >= len(t) {
			continue
		}
		var ve int
		if q := t[vs]; q == '"' || q == '\'' {
			vs++
			ve = vs
			for ve < len(t) && ve-vs <= maxPassword && t[ve] != q {
				ve++
			}
			if ve >= len(t) || t[ve] != q {
				continue
			}
		} else {
			if spaced || spacedKey {
				continue // prose or code: "passwd: cannot open", "token = next()"
			}
			ve = vs
			for ve < len(t) && ve-vs <= maxPassword && !passwordEnd(t[ve]) {
				ve++
			}
		}
		v := t[vs:ve]
		if len(v) < 3 || len(v) > maxPassword || !plausibleSecret(v) || e.covered(vs, ve) {
			continue
		}
		repl := string(t[k:sepEnd]) + redacted("", len(v))
		e.secret(k, ve, vs, ve, kindPassword, repl, t[k:ve])
		x = ve
	}
}

func passwordEnd(c byte) bool {
	switch c {
	case ' ', '\t', '"', '\'', '&', ';', ',', ')', ']', '}', '<', '>', '`':
		return true
	}
	return c < 0x20 || c >= 0x7f
}

// plausibleSecret rejects format verbs, templates and placeholder words.
func plausibleSecret(v []byte) bool {
	switch v[0] {
	case '%', '$', '{', '<', '[', '(', '*', '\\', '?':
		return false
	}
	if v[0] >= 0x80 {
		return false
	}
	same := true
	for _, c := range v {
		if c != v[0] {
			same = false
		}
	}
	if same {
		return false
	}
	return !placeholder[gostrings.ToLower(string(v))]
}

// redactText returns t[s:x] with the secrets within it (those found by earlier detectors,
// and extra) replaced by their redacted forms.
func (e *extractor) redactText(s, x int, extra ...rng) (string, bool) {
	first := sort.Search(len(e.coverMax), func(i int) bool { return e.coverMax[i] > s })
	var rs []rng
	for k := first; k < len(e.cover) && e.cover[k].s < x; k++ {
		if r := e.cover[k]; r.secret && r.e > s {
			rs = append(rs, r)
		}
	}
	rs = append(rs, extra...)
	if len(rs) == 0 {
		return string(e.t[s:x]), false
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].s < rs[j].s })
	b := make([]byte, 0, x-s)
	last := s
	for _, r := range rs {
		if r.e <= last || r.s >= x {
			continue
		}
		if r.s > last {
			b = append(b, e.t[last:r.s]...)
		}
		b = append(b, r.repl...)
		last = min(r.e, x)
	}
	b = append(b, e.t[last:x]...)
	return string(b), true
}

// urlAt reads the URL whose "://" is at t[k]: its start s, end x, lower-case scheme, and
// the authority t[auth:ae]; ok is false when no scheme precedes "://".
func urlAt(t []byte, k int) (s, x int, scheme string, auth, ae int, ok bool) {
	s = k
	for s > 0 && (isAlnum(t[s-1]) || t[s-1] == '+' || t[s-1] == '-' || t[s-1] == '.') {
		s--
	}
	for s < k && !isAlpha(t[s]) {
		s++
	}
	if k-s < 2 || k-s > 16 {
		return 0, 0, "", 0, 0, false
	}
	x = k + 3
	for x < len(t) && x-s < maxToken && isURLChar(t[x]) {
		x++
	}
	for x > k+3 {
		c := t[x-1]
		if c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' || c == ']' {
			x--
			continue
		}
		break
	}
	scheme = gostrings.ToLower(string(t[s:k]))
	if !knownScheme[scheme] {
		// Strings packed back to back ("methodshttp://…"): keep the known scheme the
		// word ends with.
		best := ""
		for sc := range knownScheme {
			if len(sc) < len(scheme) && len(sc) > len(best) && gostrings.HasSuffix(scheme, sc) {
				best = sc
			}
		}
		if best != "" {
			scheme, s = best, k-len(best)
		}
	}
	auth = k + 3
	ae = auth
	for ae < x && t[ae] != '/' && t[ae] != '?' && t[ae] != '#' {
		ae++
	}
	return s, x, scheme, auth, ae, true
}

// urlCredentials finds user:password@ in the authority of every URL, URLs within URLs
// included.
func (e *extractor) urlCredentials(t []byte) {
	for i := 0; i < len(t); {
		k := bytes.Index(t[i:], []byte("://"))
		if k < 0 {
			return
		}
		k += i
		i = k + 3
		s, _, _, auth, ae, ok := urlAt(t, k)
		if !ok || e.covered(s, k+3) {
			continue
		}
		at := bytes.LastIndexByte(t[auth:ae], '@')
		if at < 0 {
			continue
		}
		ui := t[auth : auth+at]
		c := bytes.IndexByte(ui, ':')
		if c < 0 || c+1 >= len(ui) {
			continue
		}
		ps, pe := auth+c+1, auth+at
		user, _ := e.redactText(auth, auth+c)
		repl := redacted("", pe-ps)
		e.addCover(rng{s: ps, e: pe, secret: true, repl: repl})
		e.spanText(ps, pe, repl)
		if e.reports(ae) {
			host, _ := hostPort(t[auth+at+1 : ae])
			h := sha256.Sum256(append([]byte(kindURLCreds+"\x00"), t[auth:ae]...))
			e.add("secret", string(h[:]), auth, Indicator{Kind: kindURLCreds, Value: user + ":" + repl + "@" + host, Redacted: true, Length: pe - ps})
		}
	}
}

// urls finds scheme://… references.
func (e *extractor) urls(t []byte) {
	for i := 0; i < len(t); {
		k := bytes.Index(t[i:], []byte("://"))
		if k < 0 {
			return
		}
		k += i
		i = k + 3
		s, x, scheme, auth, ae, ok := urlAt(t, k)
		if !ok || e.covered(s, k+3) {
			continue
		}
		hp := auth
		if at := bytes.LastIndexByte(t[auth:ae], '@'); at >= 0 {
			hp = auth + at + 1
		}
		if hp == ae && scheme != "file" {
			continue
		}
		host, isIP := hostPort(t[hp:ae])
		val, red := e.redactText(s, x)
		if e.reports(x) {
			ind := Indicator{Kind: kindURL, Value: val, Redacted: red, Scheme: scheme}
			if isIP || validDomain(host) {
				ind.Host = host
			}
			e.add(kindURL, val, s, ind)
			if isIP {
				e.addIP(host, hp)
			} else if validDomain(host) {
				if onion(host) == 0 {
					e.add(kindDomain, host, hp, Indicator{Kind: kindDomain, Value: host})
				}
			}
			if v := onion(host); v > 0 {
				e.add(kindOnion, host, hp, Indicator{Kind: kindOnion, Value: host, Version: v})
			}
		}
		e.addCover(rng{s: s, e: x})
		i = x
	}
}

// knownScheme are URL schemes trimmed out of longer words.
var knownScheme = map[string]bool{
	"http": true, "https": true, "ftp": true, "ftps": true, "sftp": true, "ws": true,
	"wss": true, "tcp": true, "udp": true, "tls": true, "ssl": true, "ssh": true,
	"file": true, "smb": true, "ldap": true, "ldaps": true, "git": true, "s3": true,
	"irc": true, "ircs": true, "mqtt": true, "mqtts": true, "redis": true, "rtsp": true,
	"telnet": true, "socks5": true, "socks4": true, "grpc": true, "unix": true,
}

// hostPort returns the host of an authority's host[:port] part, lower case, and whether
// it is an IP address.
func hostPort(hp []byte) (string, bool) {
	if len(hp) > 0 && hp[0] == '[' {
		if c := bytes.IndexByte(hp, ']'); c > 0 {
			a, err := netip.ParseAddr(string(hp[1:c]))
			if err == nil && a.Is6() && a.Zone() == "" {
				return a.String(), true
			}
		}
		return "", false
	}
	if c := bytes.LastIndexByte(hp, ':'); c >= 0 {
		hp = hp[:c]
	}
	h := gostrings.ToLower(string(hp))
	if a, err := netip.ParseAddr(h); err == nil && a.Is4() && validIPv4(hp) {
		return a.String(), true
	}
	return h, false
}

// fileExtTLD are top-level domains that are also common file extensions: a bare name
// ending in one of them ("libc.so", "setup.py") is taken for a file name.
var fileExtTLD = map[string]bool{
	"so": true, "sh": true, "py": true, "pl": true, "pm": true, "rs": true, "md": true,
	"zip": true, "mov": true, "cc": true, "in": true, "am": true, "ac": true, "ps": true,
	"ml": true, "id": true, "mk": true, "tf": true, "ai": true, "ar": true, "la": true,
	"mo": true, "cat": true, "app": true, "run": true, "gs": true, "cx": true, "sc": true,
	"st": true, "do": true, "bz": true, "ms": true, "cs": true, "hs": true, "ts": true,
	"js": true, "go": true, "rb": true, "lo": true, "ko": true, "cf": true, "conf": true,
	"moe": true, "ink": true, "lol": true, "pub": true, "txt": true,
	"tmp": true, "log": true, "bin": true, "bak": true, "new": true, "old": true,
}

// commonTLD are the generic top-level domains accepted for names outside URLs and e-mail
// addresses; the hundreds of newer ones (.data, .property, .new) too often end a field
// access or a section name.
var commonTLD = map[string]bool{
	"com": true, "net": true, "org": true, "edu": true, "gov": true, "mil": true,
	"info": true, "biz": true, "mobi": true, "xyz": true, "onion": true,
}

// codeWord are first labels that make a dotted word a field access in code
// ("this.name", "options.host", "process.versions.icu"), not a host name.
var codeWord = map[string]bool{
	"this": true, "self": true, "super": true, "object": true, "window": true,
	"document": true, "process": true, "options": true, "opts": true, "module": true,
	"exports": true, "err": true, "error": true, "value": true, "entry": true,
	"request": true, "response": true, "req": true, "res": true, "headers": true,
	"config": true, "event": true, "data": true, "item": true, "result": true,
	"params": true, "args": true, "state": true, "props": true, "ctx": true,
	"context": true, "util": true, "utils": true, "node": true, "obj": true,
	"target": true, "buf": true, "buffer": true, "test": true, "fmt": true, "sync": true,
	"console": true, "prototype": true, "math": true, "json": true,
}

// bareName applies the extra rule for names found outside URLs and e-mail addresses:
// the top-level domain is a common generic one (com, net, org, edu, gov, mil, info, biz,
// mobi, xyz), or a country code that is not also a common file extension, with a label
// of at least three characters in front of the public suffix ("evil.co.uk", not
// "a.ru"); and the first label is not a word that code uses for objects.
func bareName(h string) bool {
	labels := gostrings.Split(h, ".")
	if codeWord[labels[0]] {
		return false
	}
	tld := labels[len(labels)-1]
	if len(tld) == 2 {
		suffix, _ := publicsuffix.PublicSuffix(h)
		reg := h[:len(h)-len(suffix)-1]
		reg = reg[gostrings.LastIndexByte(reg, '.')+1:]
		return !fileExtTLD[tld] && len(reg) >= 3
	}
	return commonTLD[tld]
}

// validDomain applies the domain rule to a lower-case name.
func validDomain(h string) bool {
	if len(h) < 4 || len(h) > 253 {
		return false
	}
	labels := 0
	for _, l := range gostrings.Split(h, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z') && !isDigit(c) && c != '-' {
				return false
			}
		}
		labels++
	}
	if labels < 2 {
		return false
	}
	tld := h[gostrings.LastIndexByte(h, '.')+1:]
	for i := 0; i < len(tld); i++ {
		if !(tld[i] >= 'a' && tld[i] <= 'z') && !gostrings.HasPrefix(tld, "xn--") {
			return false
		}
	}
	if tld == "onion" {
		return true
	}
	suffix, icann := publicsuffix.PublicSuffix(h)
	return icann && len(suffix) < len(h)
}

// onion returns an onion address's version (2 or 3), or 0.
func onion(h string) int {
	if !gostrings.HasSuffix(h, ".onion") {
		return 0
	}
	l := h[:len(h)-len(".onion")]
	if d := gostrings.LastIndexByte(l, '.'); d >= 0 {
		l = l[d+1:]
	}
	for i := 0; i < len(l); i++ {
		if !(l[i] >= 'a' && l[i] <= 'z') && !(l[i] >= '2' && l[i] <= '7') {
			return 0
		}
	}
	switch len(l) {
	case 16:
		return 2
	case 56:
		return 3
	}
	return 0
}

// emails finds local@domain addresses.
func (e *extractor) emails(t []byte) {
	for i := 0; i < len(t); {
		k := bytes.IndexByte(t[i:], '@')
		if k < 0 {
			return
		}
		k += i
		i = k + 1
		l := k
		for l > 0 && k-l < 64 && (isAlnum(t[l-1]) || bytes.IndexByte([]byte("._%+-"), t[l-1]) >= 0) {
			l--
		}
		for l < k && t[l] == '.' {
			l++
		}
		if l == k || t[k-1] == '.' || (l > 0 && (isAlnum(t[l-1]) || t[l-1] == '@')) {
			continue
		}
		d := k + 1
		for d < len(t) && d-k < 254 && isHostChar(t[d]) {
			d++
		}
		for d > k+1 && (t[d-1] == '.' || t[d-1] == '-') {
			d--
		}
		if d < len(t) && (t[d] == '_' || t[d] == '@') {
			continue
		}
		dom := gostrings.ToLower(string(t[k+1 : d]))
		if !validDomain(dom) || onion(dom) > 0 || e.covered(l, d) {
			continue
		}
		if e.reports(d) {
			v := string(t[l:k]) + "@" + dom
			e.add(kindEmail, v, l, Indicator{Kind: kindEmail, Value: v})
			e.add(kindDomain, dom, k+1, Indicator{Kind: kindDomain, Value: dom})
		}
		e.addCover(rng{s: l, e: d})
		i = d
	}
}

// dotted finds domains, onion addresses and IPv4 addresses: words with dots.
func (e *extractor) dotted(t []byte) {
	for i := 0; i < len(t); {
		k := bytes.IndexByte(t[i:], '.')
		if k < 0 {
			return
		}
		k += i
		s := k
		for s > 0 && (isHostChar(t[s-1]) || t[s-1] == '_') {
			s--
		}
		x := k + 1
		for x < len(t) && (isHostChar(t[x]) || t[x] == '_') {
			x++
		}
		i = x
		if bytes.IndexByte(t[s:x], '_') >= 0 {
			continue
		}
		if t[s] == '.' {
			continue // ".note.gnu.property", ".tar.gz": section names and extensions
		}
		for s < x && t[s] == '-' {
			s++
		}
		for x > s && (t[x-1] == '.' || t[x-1] == '-') {
			x--
		}
		if x-s < 4 || bytes.IndexByte(t[s:x], '.') < 0 || e.covered(s, x) || !e.reports(x) {
			continue
		}
		w := t[s:x]
		numeric := true
		for _, c := range w {
			if !isDigit(c) && c != '.' {
				numeric = false
				break
			}
		}
		if numeric {
			if validIPv4(w) {
				if s > 0 && (t[s-1] == '-' || t[s-1] == '.') {
					continue
				}
				a, err := netip.ParseAddr(string(w))
				if err == nil {
					e.addIP(a.String(), s)
				}
			}
			continue
		}
		tld := w[bytes.LastIndexByte(w, '.')+1:]
		if len(tld) == 5 && bytes.EqualFold(tld, []byte("onion")) {
			h := gostrings.ToLower(string(w))
			if v := onion(h); v > 0 {
				e.add(kindOnion, h, s, Indicator{Kind: kindOnion, Value: h, Version: v})
			}
			continue
		}
		// The top-level domain must be lower-case letters: "fmt.Println" is code,
		// "libc.so.6" a file name.
		if len(tld) < 2 || (len(tld) == 2 && fileExtTLD[string(tld)]) {
			continue
		}
		lower := true
		for _, c := range tld {
			if c < 'a' || c > 'z' {
				lower = false
				break
			}
		}
		if !lower {
			continue
		}
		h := gostrings.ToLower(string(w))
		if !validDomain(h) || !bareName(h) {
			continue
		}
		e.add(kindDomain, h, s, Indicator{Kind: kindDomain, Value: h})
	}
}

// validIPv4 reports whether w is exactly four decimal octets without leading zeros.
func validIPv4(w []byte) bool {
	parts := 0
	for len(w) > 0 {
		d := 0
		v := 0
		for d < len(w) && isDigit(w[d]) {
			v = v*10 + int(w[d]-'0')
			d++
			if d > 3 {
				return false
			}
		}
		if d == 0 || v > 255 || (d > 1 && w[0] == '0') {
			return false
		}
		parts++
		w = w[d:]
		if len(w) > 0 {
			if w[0] != '.' || len(w) == 1 {
				return false
			}
			w = w[1:]
		}
	}
	return parts == 4
}

func (e *extractor) addIP(a string, s int) {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return
	}
	kind := kindIPv4
	if ip.Is6() {
		kind = kindIPv6
	}
	e.add(kind, a, s, Indicator{Kind: kind, Value: a, Scope: scope(ip)})
}

var (
	pfxShared   = netip.MustParsePrefix("100.64.0.0/10")
	pfxBench    = netip.MustParsePrefix("198.18.0.0/15")
	pfxDoc4     = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	pfxDoc6     = netip.MustParsePrefix("2001:db8::/32")
	pfxReserved = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("240.0.0.0/4"), netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("192.88.99.0/24")}
)

// scope classifies an address (see Indicator.Scope).
func scope(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case pfxShared.Contains(ip):
		return "shared"
	case pfxBench.Contains(ip):
		return "benchmarking"
	case pfxDoc6.Contains(ip):
		return "documentation"
	}
	for _, p := range pfxDoc4 {
		if p.Contains(ip) {
			return "documentation"
		}
	}
	for _, p := range pfxReserved {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	if !ip.IsGlobalUnicast() {
		return "reserved"
	}
	return "public"
}

// ipv6 finds IPv6 literals.
func (e *extractor) ipv6(t []byte) {
	is6 := func(c byte) bool { return isHexDigit(c) || c == ':' || c == '.' }
	for i := 0; i < len(t); {
		k := bytes.IndexByte(t[i:], ':')
		if k < 0 {
			return
		}
		k += i
		s := k
		for s > 0 && is6(t[s-1]) {
			s--
		}
		x := k + 1
		for x < len(t) && is6(t[x]) {
			x++
		}
		i = x
		if (s > 0 && isWordChar(t[s-1])) || (x < len(t) && isWordChar(t[x])) {
			continue
		}
		for x > s && t[x-1] == '.' {
			x--
		}
		if x-s >= 2 && t[x-1] == ':' && t[x-2] != ':' {
			x--
		}
		w := t[s:x]
		if len(w) < 3 || bytes.Count(w, []byte(":")) < 2 || e.covered(s, x) || !e.reports(x) {
			continue
		}
		a, err := netip.ParseAddr(string(w))
		if err != nil || !a.Is6() || a.IsUnspecified() || !plausibleIPv6(w) {
			continue
		}
		e.addIP(a.String(), s)
	}
}

// plausibleIPv6 wants "::1", or two groups or more with one of at least three digits:
// "151::" and "::f" are too often something else.
func plausibleIPv6(w []byte) bool {
	if string(w) == "::1" {
		return true
	}
	groups, long := 0, false
	for _, g := range bytes.Split(w, []byte(":")) {
		if len(g) > 0 {
			groups++
			long = long || len(g) >= 3
		}
	}
	return groups >= 2 && long
}

// blobs finds long base64 and hex runs.
func (e *extractor) blobs(t []byte) {
	for i := 0; i < len(t); {
		for i < len(t) && !isB64(t[i]) {
			i++
		}
		s := i
		for i < len(t) && isB64(t[i]) {
			i++
		}
		x := i
		for i < len(t) && i-x < 2 && t[i] == '=' {
			i++
		}
		if x-s < minBlob || e.covered(s, i) || !e.reports(i) || (s > 0 && t[s-1] == '_') || (i < len(t) && t[i] == '_') {
			continue
		}
		run := t[s:x]
		if isHexRun(run) {
			n := len(run) / 2
			e.dec = grow(e.dec, n)
			if _, err := hex.Decode(e.dec, run[:2*n]); err == nil {
				e.blob(kindHex, s, run, e.dec)
			}
			continue
		}
		if !looksBase64(run) {
			continue
		}
		r := run
		if len(r)%4 == 1 {
			r = r[:len(r)-1]
		}
		n := base64.RawStdEncoding.DecodedLen(len(r))
		e.dec = grow(e.dec, n)
		m, err := base64.RawStdEncoding.Decode(e.dec, r)
		if err != nil {
			continue
		}
		e.blob(kindBase64, s, run, e.dec[:m])
	}
}

func (e *extractor) blob(kind string, s int, run, dec []byte) {
	h := sha256.Sum256(run)
	v := string(run[:32]) + "…"
	f := sniff.Detect(dec[:min(len(dec), sniff.HeadSize)], "", int64(len(dec))).Format
	e.add(kind, string(h[:]), s, Indicator{Kind: kind, Value: v, Length: len(run),
		DecodedLength: len(dec), DecodedEntropy: entropy.Of(dec), DecodedFormat: string(f)})
}

// isHexRun: hex digits only, digits and letters both present, letters of one case.
func isHexRun(r []byte) bool {
	var digit, lower, upper bool
	for _, c := range r {
		switch {
		case isDigit(c):
			digit = true
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return false
		}
	}
	return digit && (lower != upper)
}

// looksBase64 wants the mix of classes random data encodes to, and no alphabet table.
func looksBase64(r []byte) bool {
	var up, lo, dg, asc, run, worded int
	for i, c := range r {
		if isAlpha(c) && i > 0 && isAlpha(r[i-1]) && (c >= 'a') == (r[i-1] >= 'a') {
			run++
			if run == 5 {
				worded += 5
			} else if run > 5 {
				worded++
			}
		} else {
			run = 1
		}
		switch {
		case c >= 'A' && c <= 'Z':
			up++
		case c >= 'a' && c <= 'z':
			lo++
		case isDigit(c):
			dg++
		}
		if i > 0 && c == r[i-1]+1 {
			asc++
			if asc >= 7 {
				return false
			}
		} else {
			asc = 0
		}
	}
	n := len(r)
	return up*8 >= n && lo*8 >= n && dg*32 >= n && worded*4 < n
}

// finish closes key blocks still open at the end of the file.
func (e *extractor) finish() {
	for i := range e.keys {
		if kb := &e.keys[i]; kb.open {
			e.addSpan(kb.start, kb.lastEnd, kb.repl)
			kb.open = false
		}
	}
}

func (e *extractor) indicators() Indicators {
	get := func(name string) IndicatorList {
		l := e.lists[name]
		if l == nil {
			return IndicatorList{Items: []Indicator{}}
		}
		return IndicatorList{Items: l.items, Occurrences: l.occ, Truncated: l.truncated}
	}
	return Indicators{
		URLs: get(kindURL), Domains: get(kindDomain), IPv4: get(kindIPv4), IPv6: get(kindIPv6),
		Emails: get(kindEmail), Onions: get(kindOnion), Base64: get(kindBase64), Hex: get(kindHex),
		Secrets: get("secret"),
	}
}

// grow returns b resized to n bytes, reusing its storage when it can.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}
