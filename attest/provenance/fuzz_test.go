package provenance

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"kensa.dev/kensa/internal/result"
)

// fuzzSeeds returns the real GitHub attestation files and statements built in the tests.
func fuzzSeeds(f *testing.F) (bundles, statements [][]byte) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join(ghDir, "*.intoto.jsonl"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files in %s: %v", ghDir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		bundles = append(bundles, b)
		envs, err := ParseEnvelopes(bytes.NewReader(b))
		if err != nil {
			f.Fatal(err)
		}
		statements = append(statements, envs[0].Payload)
	}
	statements = append(statements, slsa02Statement(nil), slsa1GeneratorStatement(nil),
		[]byte(stmt(subj("app", `{"sha256":"`+appSHA256+`","sha512":"`+strings.Repeat("ab", 64)+`"}`), "")))
	bundles = append(bundles, []byte(dsseLine(PayloadTypeInToto, slsa02Statement(nil))+"\n"+dsseLine("text/plain", []byte("x"))))
	return bundles, statements
}

func fuzzCheck(t *testing.T, st *Statement, data []byte) {
	// A statement cannot name the digest of its own bytes, so for an artifact with that
	// digest the subject check must never pass; nothing may panic.
	art := Subject{Name: "artifact", SHA256: sha256hex(data)}
	exp := Expect{BuilderID: genericBuilder, SourceURI: "github.com/acme/app", SourceTag: "v1", SourceBranch: "main", Required: true}
	for _, c := range Check(st, art, exp, "https://github.com/acme/app/.github/workflows/x.yml@refs/heads/main") {
		if c.Status == result.Erred && strings.Contains(c.Detail, "internal error") {
			t.Fatalf("panic in Check: %s", c.Detail)
		}
		if c.Name == CheckSubject && c.Status == result.Pass {
			t.Fatalf("subject check passed for an unrelated artifact: %s", c.Detail)
		}
	}
	// And for an artifact a subject names, Check runs to the end as well.
	for _, s := range st.Subjects {
		if d := s.Digest["sha256"]; d != "" {
			Check(st, Subject{Name: s.Name, SHA256: d}, exp, "")
			break
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	_, statements := fuzzSeeds(f)
	for _, s := range statements {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatement(data)
		_, err2 := ParseStatement(data)
		if (err == nil) != (err2 == nil) {
			t.Fatal("not deterministic")
		}
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic: %v", err)
			}
			return
		}
		if len(st.Subjects) == 0 || len(st.Subjects) > MaxSubjects || st.PredicateType == "" {
			t.Fatalf("accepted a statement out of bounds: %d subjects", len(st.Subjects))
		}
		fuzzCheck(t, st, data)
	})
}

func FuzzParseEnvelopes(f *testing.F) {
	bundles, _ := fuzzSeeds(f)
	for _, b := range bundles {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		envs, err := ParseEnvelopes(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic: %v", err)
			}
			return
		}
		if len(envs) == 0 || len(envs) > MaxEnvelopes {
			t.Fatalf("%d envelopes", len(envs))
		}
		for _, e := range envs {
			if e.Signatures < 1 || e.Signatures > MaxSignatures || (e.MediaType != "" && e.Signatures != 1) {
				t.Fatalf("accepted %d signatures", e.Signatures)
			}
			st, err := StatementFromEnvelope(e)
			if err != nil {
				if strings.Contains(err.Error(), "internal error") {
					t.Fatalf("panic: %v", err)
				}
				continue
			}
			fuzzCheck(t, st, e.Payload)
		}
	})
}

// FuzzStrictJSON compares decodeStrict with encoding/json. Whatever decodeStrict accepts
// is valid JSON to encoding/json (so nothing trails the value), decodes to the same
// value, nests at most MaxDepth deep, and has no key twice or in two case variants in
// one object (the document holds as many keys as the decoded value, and no two keys of a
// decoded object are equal under case folding). The accepted document stays accepted as
// an array element, and is rejected once a duplicate key, a case-variant key or trailing
// data is added around it. Two runs give the same result.
func FuzzStrictJSON(f *testing.F) {
	// The statements, not the larger bundles holding them: FuzzParseEnvelopes covers
	// those, and small seeds keep the fuzzer mutating rather than minimizing.
	_, statements := fuzzSeeds(f)
	for _, b := range statements {
		f.Add(b)
	}
	for _, s := range []string{
		`{"payloadType":"a","PayloadType":"b"}`, `{"a":1,"a":2}`, `{"k":1,"\u212a":2}`, `{"K":{"s":1,"\u017f":2}}`,
		`{"a":1} x`, `{"a":1}{"a":1}`, `[1e400, -0, 1.5e-7, 123456789012345678901234567890]`, `"\ud800\u0041"`,
		`{"a\"b:":"c:d","":[]}`, "\xff", `null`, ` [ {} , [] , "" ] `, strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeStrict(data)
		v2, err2 := decodeStrict(data)
		if !reflect.DeepEqual(v, v2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("two runs differ: %v (%v) and %v (%v)", v, err, v2, err2)
		}
		if err != nil {
			return
		}
		if !utf8.Valid(data) || !json.Valid(data) {
			t.Fatalf("accepted what encoding/json rejects: %q", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var ref any
		if err := dec.Decode(&ref); err != nil || !reflect.DeepEqual(v, ref) {
			t.Fatalf("decoded %#v; encoding/json gives %#v (%v)", v, ref, err)
		}
		if d := jsonDepth(v); d > MaxDepth {
			t.Fatalf("accepted nesting %d deep", d)
		}
		if n, keys := keyCount(data), valueKeys(t, v); n != keys {
			t.Fatalf("the document has %d keys and its value %d: a duplicate key was accepted", n, keys)
		}
		if jsonDepth(v) < MaxDepth {
			if w, err := decodeStrict(slices.Concat([]byte("["), data, []byte("]"))); err != nil || !reflect.DeepEqual(w, []any{v}) {
				t.Fatalf("the accepted value inside an array gives %v, %v", w, err)
			}
		}
		for _, bad := range [][]byte{
			slices.Concat([]byte(`{"k":`), data, []byte(`,"k":0}`)),
			slices.Concat([]byte(`{"k":`), data, []byte(`,"K":0}`)),
			slices.Concat([]byte(`{"k":0,"\u212a":`), data, []byte(`}`)),
			slices.Concat(data, []byte(` {}`)),
			slices.Concat(data, []byte(` 0`)),
			slices.Concat(data, []byte(`"`)),
		} {
			if _, err := decodeStrict(bad); err == nil {
				t.Fatalf("accepted %q", bad)
			}
		}
	})
}

// jsonDepth is the nesting depth of arrays and objects in v.
func jsonDepth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	}
	return 0
}

// keyCount counts the object keys of a valid JSON document: the colons outside strings.
func keyCount(data []byte) int {
	n, inString := 0, false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == ':':
			n++
		}
	}
	return n
}

// valueKeys counts the keys of the objects in v, and fails when one object has two keys
// equal under case folding.
func valueKeys(t *testing.T, v any) int {
	n := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			n += valueKeys(t, e)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, e := range x {
			for _, o := range keys {
				if strings.EqualFold(o, k) {
					t.Fatalf("accepted keys %q and %q in one object", o, k)
				}
			}
			keys = append(keys, k)
			n += 1 + valueKeys(t, e)
		}
	}
	return n
}

// FuzzStatementMatch checks the subject matching of Check (series S8 of bad-inputs.md)
// against a model. The fuzzer picks the artifact's name, whether its sha512 is known and
// whether it is matched by digest only, and a list of subjects, each with a name (the
// artifact's, in another directory, with backslashes, another file's, none) and a sha256
// and sha512 that are absent, the artifact's, another file's, uppercase or short, plus
// md5 and sha1 digests that never count. Invalid digests must make ParseStatement fail;
// otherwise the subject check passes exactly when some subject has an acceptable digest
// of the artifact, every other acceptable digest it lists matches too (a sha512 counts
// only when the artifact's is known) and, unless matched by digest only, its base name
// is the artifact's. The result is the same twice, in reverse subject order, and fails
// for an artifact whose digest differs in one digit.
func FuzzStatementMatch(f *testing.F) {
	f.Add([]byte{0, 1, 0}, "dist/app.tar.gz", true, false)
	f.Add([]byte{0, 1, 1}, "dist/app.tar.gz", true, false)
	f.Add([]byte{0, 1, 2}, "dist/app.tar.gz", true, false)
	f.Add([]byte{0, 2, 1 | 0x80}, "app", true, false)               // md5 matches, sha256 does not
	f.Add([]byte{2, 1, 0, 0, 3, 0}, "app", false, false)            // uppercase hex
	f.Add([]byte{4, 1, 0, 2, 2, 0, 1, 1, 0}, "x\\app", false, true) // extra subjects
	f.Add([]byte{3, 0, 1}, "", true, false)
	content := []byte("the delivered artifact\n")
	other := []byte("some other file\n")
	art, err := SubjectOf("", bytes.NewReader(content))
	if err != nil {
		f.Fatal(err)
	}
	oth, err := SubjectOf("", bytes.NewReader(other))
	if err != nil {
		f.Fatal(err)
	}
	md5sum := md5.Sum(content)
	sha1Other := strings.Repeat("ab", 20)
	f.Fuzz(func(t *testing.T, spec []byte, name string, give512, digestOnly bool) {
		// A statement is JSON, which cannot carry invalid UTF-8.
		name = strings.ToValidUTF8(name, "?")
		a := Subject{Name: name, DigestOnly: digestOnly, SHA256: art.SHA256}
		if give512 {
			a.SHA512 = art.SHA512
		}
		base := func(s string) string { return path.Base(path.Clean("/" + strings.ReplaceAll(s, "\\", "/"))) }
		names := []string{name, "dir/" + name, "other.bin", "", "..\\sub\\" + base(name), base(name) + "/x"}
		digests := func(choice byte, mine, theirs string) (string, bool, bool) {
			switch choice % 5 {
			case 1:
				return mine, true, true
			case 2:
				return theirs, true, true
			case 3:
				return strings.ToUpper(mine), true, false
			case 4:
				return mine[:len(mine)-2], true, false
			}
			return "", false, true
		}
		var subjects []fuzzSubject
		valid, want := true, false
		for i := 0; i+2 < len(spec) && len(subjects) < 16; i += 3 {
			s := fuzzSubject{Name: names[int(spec[i])%len(names)], Digest: map[string]string{}}
			d256, has256, ok256 := digests(spec[i+1], art.SHA256, oth.SHA256)
			d512, has512, ok512 := digests(spec[i+2]&0x3f, art.SHA512, oth.SHA512)
			if has256 {
				s.Digest["sha256"] = d256
			}
			if has512 {
				s.Digest["sha512"] = d512
			}
			if spec[i+2]&0x80 != 0 {
				s.Digest["md5"] = hex.EncodeToString(md5sum[:])
			}
			if spec[i+2]&0x40 != 0 {
				s.Digest["sha1"] = sha1Other
			}
			valid = valid && ok256 && ok512 && len(s.Digest) > 0
			m256 := has256 && d256 == art.SHA256
			m512 := has512 && give512 && d512 == art.SHA512
			matches := (m256 || m512) && (!has256 || m256) && (!has512 || m512)
			if matches && (name == "" || digestOnly || base(s.Name) == base(name)) {
				want = true
			}
			subjects = append(subjects, s)
		}
		if len(subjects) == 0 {
			return
		}
		statement := func(subjects []fuzzSubject) []byte {
			b, err := json.Marshal(map[string]any{"_type": StatementV1, "subject": subjects,
				"predicateType": "https://example.com/p/v1", "predicate": map[string]any{}})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		subjectStatus := func(data []byte, a Subject) (string, error) {
			st, err := ParseStatement(data)
			if err != nil {
				return "", err
			}
			for _, c := range Check(st, a, Expect{PredicateTypes: []string{"https://example.com/p/v1"}}, "") {
				if c.Name == CheckSubject {
					return c.Status, nil
				}
			}
			t.Fatal("no subject check")
			return "", nil
		}
		data := statement(subjects)
		got, err := subjectStatus(data, a)
		if (err == nil) != valid {
			t.Fatalf("parsing %s: %v; the model says valid %v", data, err, valid)
		}
		if err != nil {
			return
		}
		if (got == result.Pass) != want || got != result.Pass && got != result.Fail {
			t.Fatalf("subject check %s for artifact %+v in %s; the model says pass %v", got, a, data, want)
		}
		if again, _ := subjectStatus(data, a); again != got {
			t.Fatalf("two runs differ: %s and %s", got, again)
		}
		if rev, _ := subjectStatus(statement(reversed(subjects)), a); rev != got {
			t.Fatalf("reversed subjects give %s, not %s", rev, got)
		}
		changed := a
		changed.SHA256 = flipHex(a.SHA256)
		if changed.SHA512 != "" {
			changed.SHA512 = flipHex(a.SHA512)
		}
		if got, _ := subjectStatus(data, changed); got == result.Pass {
			t.Fatalf("an artifact with sha256 %s passed for %s", changed.SHA256, data)
		}
	})
}

// fuzzSubject is a statement subject as FuzzStatementMatch writes it.
type fuzzSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

func reversed(s []fuzzSubject) []fuzzSubject {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// flipHex changes the last digit of a hex string.
func flipHex(s string) string {
	c := byte('0')
	if s[len(s)-1] == '0' {
		c = '1'
	}
	return s[:len(s)-1] + string(c)
}
