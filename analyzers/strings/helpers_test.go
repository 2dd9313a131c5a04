package strings

import (
	"bytes"
	"context"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// analyze runs the analyzer on b as a file of format f.
func analyze(t testing.TB, b []byte, f sniff.Format) *Facts {
	t.Helper()
	lim := limits.Default()
	a := &analyzers.Artifact{Path: "x", Format: f, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &lim}
	got, err := Listing{}.Analyze(context.Background(), a)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return got.(*Facts)
}

// scanAll scans b with no cap on the strings listed.
func scanAll(t testing.TB, b []byte) *Facts {
	t.Helper()
	s := newScanner(int64(len(b)), false, maxStrings)
	s.limit = 1 << 30
	if err := s.run(context.Background(), bytes.NewReader(b)); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return s.facts()
}

// utf16le encodes ASCII s as UTF-16LE.
func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// values lists the indicator values of a list.
func values(l IndicatorList) []string {
	var v []string
	for _, it := range l.Items {
		v = append(v, it.Value)
	}
	return v
}
