package strings

import (
	"bytes"
	"testing"

	"kensa.dev/kensa/analyzers/sniff"
)

// TestDenseIndicators feeds 1.5 MiB strings packed with indicators and near misses of every
// kind: the lists stay capped and every kind is still counted.
func TestDenseIndicators(t *testing.T) {
	units := []string{
		"http://a.example.com/ ", "AKIAIOSFODNN7EXAMPLE ", "x@example.com ", "1.2.3.4 ",
		"password=abcdef1 ", "fe80::1:2 ", "a.b.c.d.e.f.g.h ", "::::::::: ", "-----BEGIN X PRIVATE KEY----- ",
	}
	const size = 3 << 19 // 1.5 MiB: two segments
	for _, u := range units {
		b := append([]byte{0}, bytes.Repeat([]byte(u), size/len(u))...)
		b = append(b, 0)
		f := analyze(t, b, sniff.Data)
		ind := f.Indicators
		total := ind.URLs.Occurrences + ind.Secrets.Occurrences + ind.Emails.Occurrences + ind.IPv4.Occurrences + ind.IPv6.Occurrences
		for _, l := range []IndicatorList{ind.URLs, ind.Domains, ind.IPv4, ind.IPv6, ind.Emails, ind.Secrets} {
			if len(l.Items) > maxPerKind {
				t.Errorf("%q: %d items", u, len(l.Items))
			}
		}
		// An unterminated key header makes the rest of the string its body.
		if u[0] != '-' && u != "a.b.c.d.e.f.g.h " && u != "::::::::: " && total < int64(size/len(u))-2 {
			t.Errorf("%q: %d occurrences counted, want about %d", u, total, size/len(u))
		}
	}
}
