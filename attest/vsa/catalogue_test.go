package vsa

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

func passing() *result.Result {
	lim := limits.Default()
	return &result.Result{
		Tool:      result.Tool{Name: "kensa", Version: "1.0.0"},
		Target:    result.Target{Input: "delivery", Digest: "sha256:" + strings.Repeat("00", 32)},
		Artifacts: []result.Artifact{{Path: "a", Type: "file", Digest: "sha256:" + strings.Repeat("aa", 32)}},
		Verdict:   "pass",
		Limits:    &lim,
		Isolation: "process",
	}
}

// TestW1NoPassedFromAContradictoryResult: a result that says pass while it lists a file
// not inspected, a failed or undecided check or a reason to fail (a result.json edited
// before `kensa attest vsa --from`, or a bug upstream of the verdict) is refused: no
// PASSED statement exists to be signed. A FAIL is still summarised, as FAILED.
func TestW1NoPassedFromAContradictoryResult(t *testing.T) {
	for name, spoil := range map[string]func(*result.Result){
		"error": func(r *result.Result) { r.Errors = []result.Error{{Path: "a", Kind: result.KindLimit, Error: "x"}} },
		"failed check": func(r *result.Result) {
			r.Checks = []result.Check{{Name: "signature/sigstore", Subject: "a", Status: result.Fail}}
		},
		"undecided": func(r *result.Result) {
			r.Checks = []result.Check{{Name: "signature/sigstore", Subject: "a", Status: result.Erred}}
		},
		"reason to fail": func(r *result.Result) { r.Reasons = []string{"high finding x"} },
	} {
		res := passing()
		spoil(res)
		if b, err := Summary(res, nil, time.Now()); err == nil || !strings.Contains(err.Error(), "refusing to attest PASSED") {
			t.Errorf("%s: Summary gave %s, %v; want a refusal", name, b, err)
		}
		res.Verdict = "fail"
		if b, err := Summary(res, nil, time.Now()); err != nil || !strings.Contains(string(b), `"verificationResult":"FAILED"`) {
			t.Errorf("%s: a FAIL gave %s, %v", name, b, err)
		}
		if b, err := TestResult(res, result.High); err != nil || !strings.Contains(string(b), `"result":"FAILED"`) {
			t.Errorf("%s: test result of a FAIL: %s, %v", name, b, err)
		}
	}
	if _, err := Summary(passing(), nil, time.Now()); err != nil {
		t.Errorf("a clean pass: %v", err)
	}
}

// TestW4LimitsAndAnomaliesInThePredicate: the VSA lists every file that could not be
// inspected with its kind (the limits hit among them) and every anomaly, bounded with a
// full count, what was not checked, the limits and isolation in force, and marks the SBOM
// content as claims.
func TestW4LimitsAndAnomaliesInThePredicate(t *testing.T) {
	res := passing()
	res.Verdict = "fail"
	res.Errors = []result.Error{{Path: "big.tar.gz!bomb", Kind: result.KindLimit, Error: "exceeds the ratio limit of 100"}}
	for i := range MaxListed + 5 {
		res.Artifacts = append(res.Artifacts, result.Artifact{Path: fmt.Sprintf("z/%04d.zip", i), Type: "file",
			Digest: "sha256:" + strings.Repeat("cc", 32), Anomalies: []string{"12 bytes follow the end of the zip data"}})
	}
	res.NotChecked = []string{"no build provenance was verified"}
	b, err := Summary(res, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate struct {
			Uninspected struct {
				Count int           `json:"count"`
				Items []Uninspected `json:"items"`
			} `json:"uninspected"`
			Anomalies struct {
				Count int       `json:"count"`
				Items []Anomaly `json:"items"`
			} `json:"anomalies"`
			NotChecked []string          `json:"notChecked"`
			Claims     map[string]string `json:"claims"`
			Limits     *limits.Limits    `json:"limits"`
			Isolation  string            `json:"isolation"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	p := st.Predicate
	if p.Uninspected.Count != 1 || len(p.Uninspected.Items) != 1 || p.Uninspected.Items[0] != (Uninspected{Path: "big.tar.gz!bomb", Kind: "limit", Error: "exceeds the ratio limit of 100"}) {
		t.Errorf("uninspected: %+v", p.Uninspected)
	}
	if p.Anomalies.Count != MaxListed+5 || len(p.Anomalies.Items) != MaxListed || p.Anomalies.Items[0].Path != "z/0000.zip" {
		t.Errorf("anomalies: count %d, %d listed", p.Anomalies.Count, len(p.Anomalies.Items))
	}
	if len(p.NotChecked) != 1 || !strings.Contains(p.Claims["sbom"], "claims, not verified facts") || p.Limits == nil || p.Isolation != "process" {
		t.Errorf("predicate: %+v", p)
	}
	// A clean pass still says so explicitly: empty lists, not missing ones.
	b, _ = Summary(passing(), nil, time.Now())
	if !strings.Contains(string(b), `"uninspected":{"count":0,"items":[]}`) || !strings.Contains(string(b), `"anomalies":{"count":0,"items":[]}`) {
		t.Errorf("clean pass: %s", b)
	}
}
