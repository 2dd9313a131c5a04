package strings

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// secretKinds are the indicator kinds whose values must never appear unredacted.
var secretKinds = map[string]bool{
	kindKey: true, kindAWS: true, kindGitHub: true, kindGitLab: true, kindSlack: true,
	kindGoogle: true, kindStripe: true, kindJWT: true, kindPassword: true, kindURLCreds: true,
}

// eachText calls fn with every string value the facts hold.
func eachText(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			eachText(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			eachText(v.Field(i), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			eachText(v.Index(i), fn)
		}
	case reflect.String:
		fn(v.String())
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add(blob("https://user:pw123456@evil.example.com/x", "AKIAIOSFODNN7EXAMPLE", "10.0.0.1", "fe80::1"), false)
	f.Add(append(utf16le("password=hunter22\x00"), blob("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----")...), true)
	f.Add([]byte("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nQUJDREVGRw==\nPrivate-MAC: 00\n"), true)
	f.Add(mixedBlob(7, 3000), false)
	// A real Windows binary, cut to keep the corpus small.
	dir := f.TempDir()
	exe := filepath.Join(dir, "w.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-o", exe, "./testdata/winprog")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		f.Fatalf("go build: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(exe); err == nil {
		f.Add(b[:min(len(b), 64<<10)], false)
	}
	f.Fuzz(func(t *testing.T, b []byte, text bool) {
		format := sniff.Data
		if text {
			format = sniff.Text
		}
		a := &analyzers.Artifact{Format: format, Size: int64(len(b)), Content: bytes.NewReader(b)}
		got, err := Listing{}.Analyze(context.Background(), a)
		if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		facts := got.(*Facts)
		for _, s := range facts.Strings {
			stride := int64(1)
			if s.Encoding == encUTF16 {
				stride = 2
			}
			if s.Offset < 0 || s.Length < MinLength || s.Offset+s.Length*stride > int64(len(b)) {
				t.Fatalf("string out of range: %+v (file %d bytes)", s, len(b))
			}
			if s.Encoding == encASCII && !s.Redacted && string(b[s.Offset:s.Offset+int64(len(s.Value))]) != s.Value {
				t.Fatalf("value %q is not at offset %d", s.Value, s.Offset)
			}
		}
		ind := facts.Indicators
		for _, l := range []IndicatorList{ind.URLs, ind.Domains, ind.IPv4, ind.IPv6, ind.Emails, ind.Onions, ind.Base64, ind.Hex, ind.Secrets} {
			if len(l.Items) > maxPerKind || int64(len(l.Items)) > l.Occurrences {
				t.Fatalf("list: %d items, %d occurrences", len(l.Items), l.Occurrences)
			}
			for _, it := range l.Items {
				if it.Offset < 0 || it.Offset >= int64(len(b)) || it.Count < 1 {
					t.Fatalf("indicator out of range: %+v", it)
				}
				if secretKinds[it.Kind] && !it.Redacted {
					t.Fatalf("secret not redacted: %+v", it)
				}
			}
		}
		if len(facts.Regions) > maxRegions {
			t.Fatalf("%d regions", len(facts.Regions))
		}
		// No secret survives: scanning every text of the facts again finds only the
		// private-key headers, which are not secret.
		eachText(reflect.ValueOf(facts), func(s string) {
			e := newExtractor()
			e.scan([]byte(s), 0, 1, encASCII, 0, false)
			for _, it := range e.indicators().Secrets.Items {
				if it.Kind != kindKey {
					t.Fatalf("a %s is in the facts unredacted: %q", it.Kind, s)
				}
			}
		})
	})
}
