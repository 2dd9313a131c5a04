package pe

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzAnalyze feeds mutated PE files to Analyze. A panic in this package's own code (as
// opposed to one in the parser, which Analyze reports as a malformed file) fails, as do
// facts that break the caps or the JSON encoding, and two runs that differ.
func FuzzAnalyze(f *testing.F) {
	fx := getFixtures(f)
	for _, p := range []string{fx.exe, fx.dll, fx.signed, fx.timestamped, fx.nested, fx.padded} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := os.ReadFile(fx.goExe); err == nil {
		f.Add(b[:4096])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		facts, err := analyzeBytes(b)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		again, err2 := analyzeBytes(b)
		j1, _ := json.Marshal(facts)
		j2, _ := json.Marshal(again)
		if !bytes.Equal(j1, j2) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("two runs differ: %v and %v", err, err2)
		}
		if facts == nil {
			return
		}
		if len(facts.Sections) > maxSections || len(facts.Imports) > maxImports || len(facts.Exports) > maxExports ||
			len(facts.Anomalies) > maxAnomalies || len(facts.TLS.CallbackRVAs) > maxTLSCallbacks ||
			len(facts.Authenticode.Signatures) > maxSignatures {
			t.Fatalf("caps exceeded: %d sections %d imports %d exports %d anomalies", len(facts.Sections), len(facts.Imports), len(facts.Exports), len(facts.Anomalies))
		}
		for _, s := range facts.Sections {
			if s.Entropy < 0 || s.Entropy > 8 || len(s.Perm) != 3 {
				t.Fatalf("section %+v", s)
			}
		}
		if facts.Authenticode.Intact && len(facts.Authenticode.Signatures) == 0 {
			t.Fatal("intact without a signature")
		}
		if _, err := json.Marshal(facts); err != nil {
			t.Fatal(err)
		}
		si, err := ReadAuthenticode(b)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		if si != nil && (len(si.Signatures) != len(si.Authenticode.Signatures) || len(si.Entries) > maxCertEntries ||
			si.Authenticode.Intact != facts.Authenticode.Intact) {
			t.Fatalf("ReadAuthenticode disagrees with the facts: %d signatures, %d facts", len(si.Signatures), len(si.Authenticode.Signatures))
		}
	})
}
