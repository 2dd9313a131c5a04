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
	"fmt"
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

// MaxListed bounds each list of what limits the verdict (uninspected files, anomalies)
// in the VSA; the counts are always complete.
const MaxListed = 1000

// Uninspected is a file that could not be inspected fully: a limit it went past (kind
// "limit"), a parse error, a recovered crash. What lies beyond was not inspected.
type Uninspected struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Error string `json:"error"`
}

// Anomaly is a structural oddity of a file that did not stop it being read.
type Anomaly struct {
	Path    string `json:"path"`
	Anomaly string `json:"anomaly"`
}

// Claims says which parts of the statements record what the delivery declares about
// itself rather than what kensa verified.
var Claims = map[string]string{
	"sbom": "the components of the SBOM statement are read from what the delivery declares (package databases, " +
		"build information embedded in binaries, package manifests): claims, not verified facts",
}

// contradicts says why a result whose verdict is pass cannot be summarised as PASSED, or "".
func contradicts(res *result.Result) string {
	var failed int
	for _, c := range res.Checks {
		if c.Status == result.Fail || c.Status == result.Erred {
			failed++
		}
	}
	if failed > 0 || len(res.Errors) > 0 || len(res.Reasons) > 0 {
		return fmt.Sprintf("the result says pass, yet %d checks failed or were undecided, %d files were not inspected and it gives %d reasons to fail", failed, len(res.Errors), len(res.Reasons))
	}
	return ""
}

// Summary makes the VSA statement of an accept result. Besides the verdict it records the
// bounds the verdict was reached under: the limits and isolation, every file that could
// not be inspected (limits hit among them), every anomaly, what was not checked, and which
// content is claimed rather than verified. A result whose verdict is pass while it lists
// an error, a failed or undecided check or a reason to fail is refused: no PASSED
// statement is made from it.
func Summary(res *result.Result, inputs []Input, at time.Time) ([]byte, error) {
	if res.Verdict == "" {
		return nil, errors.New("the result has no verdict: only kensa accept makes one")
	}
	verdict := "FAILED"
	if res.Verdict == "pass" {
		if why := contradicts(res); why != "" {
			return nil, fmt.Errorf("refusing to attest PASSED: %s; the result was altered or is corrupt, run kensa accept again", why)
		}
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
	// The bounds the verdict was reached under: what lay past a limit was not inspected.
	if res.Limits != nil {
		pred["limits"] = res.Limits
	}
	if res.Isolation != "" {
		pred["isolation"] = res.Isolation
	}
	var un []Uninspected
	for _, e := range res.Errors {
		un = append(un, Uninspected{Path: e.Path, Kind: e.Kind, Error: e.Error})
	}
	var an []Anomaly
	for _, a := range res.Artifacts {
		for _, x := range a.Anomalies {
			an = append(an, Anomaly{Path: a.Path, Anomaly: x})
		}
	}
	pred["uninspected"] = map[string]any{"count": len(un), "items": firstOf(un)}
	pred["anomalies"] = map[string]any{"count": len(an), "items": firstOf(an)}
	pred["notChecked"] = append([]string{}, res.NotChecked...)
	pred["claims"] = Claims
	return json.Marshal(Statement{Type: StatementType, Subject: Subjects(res), PredicateType: VSAType, Predicate: pred})
}

// firstOf is the first MaxListed items of list, never nil.
func firstOf[T any](list []T) []T {
	return append([]T{}, list[:min(len(list), MaxListed)]...)
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
