package main

import (
	"strings"
	"testing"
)

const stream = `{"config":{"protocol_version":"v1.0.0"}}
{"finding":{"osv":"GO-2026-5932","trace":[{"module":"golang.org/x/crypto","package":"golang.org/x/crypto/openpgp/armor","function":"Decode"}]}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.2.3","trace":[{"module":"example.org/m","package":"example.org/m/p"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.9.0","trace":[{"module":"example.org/n","package":"example.org/n/q","function":"Parse"}]}}
`

func TestReport(t *testing.T) {
	reached, err := reachedVulns(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(reached) != 2 || reached["GO-2026-0001"] != "" {
		t.Fatalf("reached %v: a finding without a function is imported, not reached", reached)
	}
	var b strings.Builder
	if code := report(&b, reached, map[string]string{"GO-2026-5932": "unmaintained; no release fixes it"}); code != 1 || !strings.Contains(b.String(), "REACHED   GO-2026-0002") {
		t.Errorf("an unaccepted reachable vulnerability must fail (code %d):\n%s", code, b.String())
	}
	b.Reset()
	if code := report(&b, map[string]string{"GO-2026-5932": "x"}, map[string]string{"GO-2026-5932": "r", "GO-2026-9999": "old"}); code != 1 || !strings.Contains(b.String(), "STALE") {
		t.Errorf("a stale acceptance must fail (code %d):\n%s", code, b.String())
	}
	b.Reset()
	if code := report(&b, map[string]string{"GO-2026-5932": "x"}, map[string]string{"GO-2026-5932": "r"}); code != 0 {
		t.Errorf("accepted only: code %d\n%s", code, b.String())
	}
}
