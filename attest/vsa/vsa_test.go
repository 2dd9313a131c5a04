package vsa

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

func TestStatements(t *testing.T) {
	lim := limits.Default()
	lim.WorkerMemory = 1 << 30
	res := &result.Result{
		Tool:   result.Tool{Name: "kensa", Version: "1.0.0"},
		Target: result.Target{Input: "delivery", Digest: "sha256:" + strings.Repeat("00", 32)},
		Artifacts: []result.Artifact{
			{Path: "a", Type: "file", Digest: "sha256:" + strings.Repeat("aa", 32)},
			{Path: "link", Type: "symlink"},
			{Path: "img.tar!old", Type: "file", Digest: "sha256:" + strings.Repeat("bb", 32), Hidden: "deleted"},
		},
		Checks:    []result.Check{{Name: "signature/sigstore", Subject: "a", Status: result.Pass}},
		Findings:  []result.Finding{{Rule: "r/x", Path: "a", Severity: result.High, Waiver: &result.Waiver{Reason: "ok"}}},
		Verdict:   "pass",
		Policy:    &result.PolicyRef{File: "acceptance.yaml", Digest: "sha256:" + strings.Repeat("11", 32), FailOn: "high"},
		Limits:    &lim,
		Isolation: "process",
	}
	b, err := Summary(res, nil, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Type          string    `json:"_type"`
		Subject       []Subject `json:"subject"`
		PredicateType string    `json:"predicateType"`
		Predicate     struct {
			Result string `json:"verificationResult"`
			Policy struct {
				URI    string            `json:"uri"`
				Digest map[string]string `json:"digest"`
			} `json:"policy"`
			Verifier struct {
				ID string `json:"id"`
			} `json:"verifier"`
			Time      string        `json:"timeVerified"`
			Limits    limits.Limits `json:"limits"`
			Isolation string        `json:"isolation"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != StatementType || st.PredicateType != VSAType || st.Predicate.Result != "PASSED" || st.Predicate.Verifier.ID != VerifierID ||
		st.Predicate.Policy.URI != "acceptance.yaml" || st.Predicate.Policy.Digest["sha256"] != strings.Repeat("11", 32) || st.Predicate.Time != "2026-11-26T00:00:00Z" {
		t.Errorf("VSA: %s", b)
	}
	if st.Predicate.Limits != lim || st.Predicate.Isolation != "process" {
		t.Errorf("the VSA does not record the bounds of the verdict: %s", b)
	}
	if len(st.Subject) != 1 || st.Subject[0].Name != "a" {
		t.Errorf("subjects (hidden files and links are not delivered files): %+v", st.Subject)
	}
	res.Verdict = "fail"
	if b, _ := Summary(res, nil, time.Now()); !strings.Contains(string(b), `"verificationResult":"FAILED"`) {
		t.Error("a FAIL is not FAILED")
	}
	res.Verdict = ""
	if _, err := Summary(res, nil, time.Now()); err == nil {
		t.Error("a result without a verdict was summarised")
	}
	res.Verdict = "pass"
	b, err = TestResult(res, result.High)
	if err != nil || !strings.Contains(string(b), `"result":"WARNED"`) || !strings.Contains(string(b), `"passedTests":["signature/sigstore a"]`) || !strings.Contains(string(b), `"warnedTests":["r/x a"]`) {
		t.Errorf("test result: %s %v", b, err)
	}
	if _, err := SBOM(res, []byte("{")); err == nil {
		t.Error("a broken SBOM was wrapped")
	}
}
