package policy

import (
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

func TestStarterIsValid(t *testing.T) {
	p, err := Parse("starter.yaml", []byte(Starter))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rules.FailOn != "high" || len(p.Waivers) != 0 {
		t.Errorf("starter: %+v", p.Rules)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"unknown key":   {"apiVersion: kensa.dev/policy/v1\ntrust:\n  sigstor: {}\n", "p.yaml:3:3: unknown field \"sigstor\""},
		"wrong version": {"apiVersion: v0\n", "p.yaml:1:13: apiVersion must be"},
		"severity":      {"apiVersion: kensa.dev/policy/v1\nrules:\n  failOn: severe\n", "p.yaml:3:11: failOn \"severe\""},
		"destination":   {"apiVersion: kensa.dev/policy/v1\ndeclarations:\n  networkDestinations: [ok.example, \"bad host\"]\n", "p.yaml:3:37: \"bad host\" is not a host name"},
		"waiver date":   {"apiVersion: kensa.dev/policy/v1\nwaivers:\n  - {rule: a/b, reason: r, approver: x, expires: 31.03.2027}\n", "expires \"31.03.2027\": write the date as YYYY-MM-DD"},
		"waiver fields": {"apiVersion: kensa.dev/policy/v1\nwaivers:\n  - {rule: a/b, expires: 2027-03-31}\n", "a waiver needs rule, reason, approver and expires"},
		"identity":      {"apiVersion: kensa.dev/policy/v1\ntrust:\n  sigstore:\n    identities:\n      - identity: x\n", "give one of issuer and issuerRegexp"},
		"regexp":        {"apiVersion: kensa.dev/policy/v1\ntrust:\n  sigstore:\n    identities:\n      - {identityRegexp: \"(\", issuer: i}\n", "missing closing )"},
		"alias":         {"apiVersion: kensa.dev/policy/v1\nx: &a 1\ny: *a\n", "aliases are not allowed"},
		"wrong type":    {"apiVersion: kensa.dev/policy/v1\nsignatures: yes-please\n", "p.yaml:2:"},
		"two documents": {"apiVersion: kensa.dev/policy/v1\n---\napiVersion: kensa.dev/policy/v1\n", "one YAML document"},
	} {
		_, err := Parse("p.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}

func TestDeclared(t *testing.T) {
	p, err := Parse("p.yaml", []byte("apiVersion: kensa.dev/policy/v1\ndeclarations:\n  networkDestinations: [updates.hoshizora.example, \"*.cdn.example\", 203.0.113.0/24, 2001:db8::1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"updates.hoshizora.example": true, "UPDATES.hoshizora.example.": true, "evil-updates.hoshizora.example": false,
		"a.cdn.example": true, "a.b.cdn.example": true, "cdn.example": false, "xcdn.example": false,
		"203.0.113.7": true, "203.0.114.7": false, "2001:db8::1": true, "2001:db8::2": false,
	} {
		if got := p.Declared(host); got != want {
			t.Errorf("Declared(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestWaive(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`apiVersion: kensa.dev/policy/v1
waivers:
  - {rule: "hardening/**", path: "bin/*", reason: r, approver: a, expires: 2027-03-31}
  - {rule: backdoor/x, digest: "sha256:`+strings.Repeat("ab", 32)+`", reason: r, approver: a, expires: 2027-03-31}
`))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02 15:04", s); return d }
	f := result.Finding{Rule: "hardening/no-pie", Path: "bin/tool"}
	if w, _ := p.Waive(f, "", day("2027-03-31 23:59")); w == nil {
		t.Error("a waiver does not hold through the day it expires")
	}
	if w, exp := p.Waive(f, "", day("2027-04-01 00:00")); w != nil || len(exp) != 1 {
		t.Error("an expired waiver still applies, or is not reported")
	}
	if w, _ := p.Waive(result.Finding{Rule: "hardening/no-pie", Path: "lib/x.so"}, "", day("2026-01-01 00:00")); w != nil {
		t.Error("a waiver applied outside its path")
	}
	b := result.Finding{Rule: "backdoor/x", Path: "any"}
	if w, _ := p.Waive(b, "sha256:"+strings.Repeat("ab", 32), day("2026-01-01 00:00")); w == nil {
		t.Error("a digest waiver does not apply to its bytes")
	}
	if w, _ := p.Waive(b, "sha256:"+strings.Repeat("cd", 32), day("2026-01-01 00:00")); w != nil {
		t.Error("a digest waiver applied to other bytes")
	}
}
