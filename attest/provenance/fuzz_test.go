package provenance

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
