package publish

import (
	"strings"
	"testing"
)

// FuzzParseStatement feeds arbitrary bytes to the statement and predicate checks: they
// return an error or a statement, never panic, and what they accept has subjects named
// by digest.
func FuzzParseStatement(f *testing.F) {
	sha := strings.Repeat("ab", 32)
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sha + `"}}],"predicateType":"https://cyclonedx.org/bom","predicate":` + cyclonedxPredicate + `}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"gitCommit":"` + sha[:40] + `"}}],"predicateType":"x","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x"}`))
	f.Add([]byte(cyclonedxPredicate))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`{"a":1} {"b":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseStatement(data)
		if err == nil {
			if len(p.Subjects) == 0 || p.PredicateType == "" {
				t.Fatalf("accepted a statement without subjects or predicate type: %q", data)
			}
			for _, s := range p.Subjects {
				if len(s.Digest) == 0 {
					t.Fatalf("accepted a subject without digest: %q", data)
				}
			}
		}
		st, err := Statement(PredicateVSA, data, Subject{Name: "a", Digest: map[string]string{"sha256": sha}})
		if err == nil {
			if _, err := ParseStatement(st); err != nil {
				t.Fatalf("a built statement does not parse: %v\n%s", err, st)
			}
		}
	})
}
