// Package vsa makes the in-toto statements of an acceptance: the SLSA Verification
// Summary Attestation (https://slsa.dev/verification_summary/v1) that carries the
// verdict, the test-result predicate (https://in-toto.io/attestation/test-result/v0.1)
// with every check, and the SBOM (CycloneDX) predicate. Their subjects are the digests of
// every delivered file, so that anyone holding the delivery and the signed statements
// can re-check which bytes were accepted, offline.
package vsa

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"kensa.dev/kensa/internal/result"
)

// Predicate and statement types.
const (
	StatementType  = "https://in-toto.io/Statement/v1"
	VSAType        = "https://slsa.dev/verification_summary/v1"
	TestResultType = "https://in-toto.io/attestation/test-result/v0.1"
	CycloneDXType  = "https://cyclonedx.org/bom"
	// VerifierID names kensa as the verifier.
	VerifierID = "https://kensa.dev/kensa"
)

// Subject is one delivered file.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto statement v1.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     any       `json:"predicate"`
}

// Subjects are the delivered files of a result (not links, not what later image layers
// hid), or the target itself when it has no files.
func Subjects(res *result.Result) []Subject {
	var out []Subject
	for _, a := range res.Artifacts {
		if a.Hidden != "" || (a.Type != "file" && a.Type != "hardlink") {
			continue
		}
		if h, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
			out = append(out, Subject{Name: a.Path, Digest: map[string]string{"sha256": h}})
		}
	}
	if len(out) == 0 {
		if h, ok := strings.CutPrefix(res.Target.Digest, "sha256:"); ok {
			out = append(out, Subject{Name: res.Target.Input, Digest: map[string]string{"sha256": h}})
		}
	}
	return out
}

// Inputs are the attestations the acceptance verified, for the VSA's inputAttestations.
type Input struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

// Summary makes the VSA statement of an accept result.
func Summary(res *result.Result, inputs []Input, at time.Time) ([]byte, error) {
	if res.Verdict == "" {
		return nil, errors.New("the result has no verdict: only kensa accept makes one")
	}
	verdict := "FAILED"
	if res.Verdict == "pass" {
		verdict = "PASSED"
	}
	pred := map[string]any{
		"verifier":           map[string]any{"id": VerifierID, "version": map[string]string{"kensa": res.Tool.Version}},
		"timeVerified":       at.UTC().Format(time.RFC3339),
		"resourceUri":        res.Target.Input,
		"verificationResult": verdict,
		"verifiedLevels":     []string{},
		"slsaVersion":        "1.0",
	}
	if p := res.Policy; p != nil {
		pol := map[string]any{"uri": "kensa:default-policy"}
		if p.File != "" {
			pol["uri"] = p.File
		}
		if h, ok := strings.CutPrefix(p.Digest, "sha256:"); ok {
			pol["digest"] = map[string]string{"sha256": h}
		}
		pred["policy"] = pol
	}
	if len(inputs) > 0 {
		pred["inputAttestations"] = inputs
	}
	return json.Marshal(Statement{Type: StatementType, Subject: Subjects(res), PredicateType: VSAType, Predicate: pred})
}

// TestResult makes the test-result statement: every check and every finding at or above
// the threshold without a waiver as a failed test, the rest passed or warned.
func TestResult(res *result.Result, threshold result.Severity) ([]byte, error) {
	passed, warned, failed := []string{}, []string{}, []string{}
	for _, c := range res.Checks {
		name := c.Name + " " + c.Subject
		switch c.Status {
		case result.Pass:
			passed = append(passed, name)
		case result.Skip:
			warned = append(warned, name)
		default:
			failed = append(failed, name)
		}
	}
	for _, f := range res.Findings {
		name := f.Rule + " " + f.Path
		switch {
		case f.Waiver == nil && f.Severity.Rank() >= threshold.Rank():
			failed = append(failed, name)
		default:
			warned = append(warned, name)
		}
	}
	for _, e := range res.Errors {
		failed = append(failed, "inspect "+e.Path)
	}
	outcome := "PASSED"
	switch {
	case res.Verdict == "fail" || len(failed) > 0:
		outcome = "FAILED"
	case len(warned) > 0:
		outcome = "WARNED"
	}
	pred := map[string]any{"result": outcome, "passedTests": passed, "warnedTests": warned, "failedTests": failed}
	if p := res.Policy; p != nil && p.File != "" {
		pred["configuration"] = []Input{{URI: p.File, Digest: map[string]string{"sha256": strings.TrimPrefix(p.Digest, "sha256:")}}}
	}
	return json.Marshal(Statement{Type: StatementType, Subject: Subjects(res), PredicateType: TestResultType, Predicate: pred})
}

// SBOM makes the CycloneDX statement.
func SBOM(res *result.Result, cyclonedxJSON []byte) ([]byte, error) {
	if !json.Valid(cyclonedxJSON) {
		return nil, errors.New("the SBOM is not JSON")
	}
	return json.Marshal(Statement{Type: StatementType, Subject: Subjects(res), PredicateType: CycloneDXType, Predicate: json.RawMessage(cyclonedxJSON)})
}
