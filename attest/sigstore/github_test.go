package sigstore

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

const githubIssuer = "https://token.actions.githubusercontent.com"

// TestGitHubAttestations checks the README table of the real GitHub build-provenance
// attestations, offline against the embedded public-good root: the expected signing
// workflow passes, another workflow fails, and no expected signer fails.
func TestGitHubAttestations(t *testing.T) {
	dir := filepath.Join(testdata, "github-attestations")
	publish := `^https://github\.com/bazel-contrib/publish-to-bcr/\.github/workflows/publish\.yaml@`
	release := `^https://github\.com/bazel-contrib/\.github/\.github/workflows/release_ruleset\.yaml@`
	for _, tc := range []struct {
		artifact string
		san      string // SAN regexp; "" for no identity at all
		want     string
		detail   string
	}{
		{"MODULE.bazel", publish, result.Pass, "publish-to-bcr"},
		{"rules_lint-v1.3.1.tar.gz", release, result.Pass, "release_ruleset"},
		{"MODULE-wrong-signer.bazel", publish, result.Fail, "not a trusted identity"},
		{"MODULE.bazel", "", result.Fail, "a policy must name whom it trusts"},
		{"rules_lint-v1.3.1.tar.gz", "", result.Fail, "a policy must name whom it trusts"},
	} {
		t.Run(tc.artifact+"/"+tc.want, func(t *testing.T) {
			opts := TrustOptions{}
			if tc.san != "" {
				opts.Identities = []Identity{{SANRegexp: tc.san, Issuer: githubIssuer}}
			}
			trust, err := NewTrust(opts)
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(dir, tc.artifact))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			files := []string{tc.artifact, tc.artifact + ".intoto.jsonl"}
			atts := Discover(files)
			if len(atts) != 1 || atts[0].Kind != KindJSONL {
				t.Fatalf("Discover(%q) = %+v", files, atts)
			}
			read := func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) }
			checks, verified := VerifyAttachment(atts[0], read, hex.EncodeToString(sum[:]), trust)
			if len(checks) != 1 {
				t.Fatalf("got %d checks, want 1: %+v", len(checks), checks)
			}
			c := checks[0]
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want || c.Name != CheckName || c.Subject != tc.artifact || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("check = %+v, want status %s with %q", c, tc.want, tc.detail)
			}
			if tc.want == result.Pass {
				v := verified[0]
				if v.Statement == nil || v.Statement.PredicateType != "https://slsa.dev/provenance/v1" || len(v.Statement.Predicate) == 0 {
					t.Fatalf("statement = %+v", v.Statement)
				}
				if len(v.Statement.Subjects) == 0 || v.Statement.Subjects[0].Digest["sha256"] != hex.EncodeToString(sum[:]) {
					t.Errorf("subjects = %+v", v.Statement.Subjects)
				}
				if !v.InclusionProof || v.TlogEntries != 1 || len(v.Timestamps) == 0 {
					t.Errorf("tlog not reported as checked: %+v", v)
				}
			}
		})
	}
	// The attestation of MODULE.bazel does not verify for another artifact.
	trust, err := NewTrust(TrustOptions{Identities: []Identity{{SANRegexp: publish, Issuer: githubIssuer}}})
	if err != nil {
		t.Fatal(err)
	}
	bundleJSON, err := os.ReadFile(filepath.Join(dir, "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("another artifact"))
	if _, err := VerifyBundle(bundleJSON, ArtifactRef{SHA256: hex.EncodeToString(other[:])}, trust); Status(err) != result.Fail {
		t.Errorf("attestation verified for another artifact: %v", err)
	}
}
