package sigstore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata is the shared test material, outside the repository.
var testdata = filepath.Join("..", "..", "..", "shared", "testdata")

const (
	conformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	conformanceIssuer   = "https://token.actions.githubusercontent.com"
)

// conformanceDeviations lists the cases of the suite whose result offline differs from the
// expected one, with the reason. TestConformanceDeviations shows each reason holds.
var conformanceDeviations = map[string]string{
	"managed-key-happy-path": "the bundle carries an RFC 3161 timestamp from timestamp.sigstore.dev, " +
		"whose certificate chain joined the public-good trusted root after the newest copy in the " +
		"module cache (the embedded root, sigstore-go v1.2.2); the conformance suite fetches the " +
		"current root over TUF, which kensa does not do offline",
}

// conformanceRows names the row of the bad-input catalogue (series B) each case of the
// suite belongs to, as a prefix of its subtest name. managed-key-happy-path, a B16 case,
// carries none: offline it is a listed deviation (conformanceDeviations), not a pass.
var conformanceRows = map[string]string{
	"wrong-hashedrekord-artifact_fail":                          "B1_",
	"wrong-hashedrekord-entry_fail":                             "B1_",
	"wrong-hashedrekord-cert-and-sig_fail":                      "B1_",
	"intoto-log-entry-mismatch_fail":                            "B1_",
	"dsse-mismatch-envelope_fail":                               "B1_",
	"dsse-mismatch-sig_fail":                                    "B1_",
	"rekor2-dsse-mismatch-envelope_fail":                        "B1_",
	"rekor2-dsse-mismatch-sig_fail":                             "B1_",
	"wrong-material_fail":                                       "B1_",
	"integrated-time-in-future_fail":                            "B5_",
	"intoto-set-outside-signing-cert-validity_fail":             "B5_",
	"intoto-tsa-timestamp-outside-cert-validity_fail":           "B5_",
	"intoto-expired-certificate_fail":                           "B5_",
	"bundle-from-wrong-instance_fail":                           "B9_",
	"trust-root-tlog-missing-validity-start_fail":               "B10_",
	"trust-root-tlog-validity-end-inclusive":                    "B10_B16_",
	"trust-root-tsa-validity-end-inclusive":                     "B10_B16_",
	"checkpoint-wrong-roothash_fail":                            "B11_",
	"checkpoint-bad-keyhint_fail":                               "B11_",
	"invalid-checkpoint-signature_fail":                         "B11_",
	"inclusion-proof-corrupted-hash_fail":                       "B11_",
	"invalid-inclusion-proof_fail":                              "B11_",
	"set-invalid-signature_fail":                                "B11_",
	"rekor2-checkpoint-missing-log-signature_fail":              "B11_",
	"rekor2-checkpoint-missing-origin_fail":                     "B11_",
	"rekor2-checkpoint-missing-root-hash_fail":                  "B11_",
	"rekor2-checkpoint-missing-size_fail":                       "B11_",
	"rekor2-checkpoint-no-matching-signature_fail":              "B11_",
	"bundle-empty-certificate-chain_fail":                       "B12_",
	"bundle-with-root-cert_fail":                                "B12_",
	"bundle-negative-log-index_fail":                            "B12_",
	"bundle-unknown-version_fail":                               "B12_",
	"bundle-invalid-base64-signature_fail":                      "B12_",
	"bundle-malformed-json_fail":                                "B12_",
	"signature-mismatch_fail":                                   "B12_",
	"dsse-invalid-sig_fail":                                     "B12_",
	"rekor2-dsse-invalid-sig_fail":                              "B12_",
	"incorrect-public-key_fail":                                 "B12_",
	"invalid-ct-key_fail":                                       "B12_",
	"message-digest-mismatch_fail":                              "B13_",
	"rekor2-no-timestamp_fail":                                  "B14_",
	"rekor2-no-inclusion-proof_fail":                            "B14_",
	"rekor2-timestamp-outside-trust-root-tsa-validity_fail":     "B14_",
	"rekor2-timestamp-outside-tsa-cert-validity_fail":           "B14_",
	"rekor2-timestamp-payload-mismatch_fail":                    "B14_",
	"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail":    "B14_",
	"rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": "B14_",
	"rekor2-timestamp-with-incorrect-time_fail":                 "B14_",
	"intoto-missing-inclusion-proof_fail":                       "B14_",
	"managed-key-no-key_fail":                                   "B15_",
	"managed-key-wrong-key_fail":                                "B15_",
	"happy-path-intoto-in-dsse-v3":                              "B16_",
	"happy-path-v0.1":                                           "B16_",
	"happy-path-v0.2":                                           "B16_",
	"happy-path-v0.3":                                           "B16_",
	"happy-path-v0.3-new-mediaType":                             "B16_",
	"managed-key-and-trusted-root":                              "B16_",
	"rekor2-happy-path":                                         "B16_",
	"rekor2-dsse-happy-path":                                    "B16_",
	"rekor2-checkpoint-cosigned":                                "B16_",
	"rekor2-checkpoint-multiple-cosigs":                         "B16_",
	"rekor2-checkpoint-origin-not-first":                        "B16_",
	"rekor2-checkpoint-two-sigs-cosigned":                       "B16_",
	"rekor2-checkpoint-two-sigs-from-origin":                    "B16_",
	"rekor2-timestamp-with-embedded-cert":                       "B16_",
	"rekor2-timestamp-without-embedded-cert":                    "B16_",
	"rekor2-timestamp-with-expired-cert-chain":                  "B16_",
	"bundle-with-sct-with-extensions":                           "B16_",
	"intoto-with-custom-trust-root":                             "B16_",
}

func readOptional(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return data
}

// TestConformance runs every bundle-verify case of the Sigstore conformance suite: a case
// must fail exactly when its name ends in _fail.
func TestConformance(t *testing.T) {
	base := filepath.Join(testdata, "sigstore-conformance", "bundle-verify")
	dirs, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	defaultArtifact, err := os.ReadFile(filepath.Join(testdata, "sigstore-conformance", "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	total, expected := 0, 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		total++
		dir := filepath.Join(base, name)
		wantFail := strings.HasSuffix(name, "_fail")
		ok := t.Run(conformanceRows[name]+name, func(t *testing.T) {
			bundleJSON := readOptional(t, filepath.Join(dir, "bundle.sigstore.json"))
			artifact := readOptional(t, filepath.Join(dir, "artifact"))
			if artifact == nil {
				artifact = defaultArtifact
			}
			opts := TrustOptions{TrustedRootJSON: readOptional(t, filepath.Join(dir, "trusted_root.json"))}
			if key := readOptional(t, filepath.Join(dir, "key.pub")); key != nil {
				opts.Keys = [][]byte{key}
			} else {
				id := Identity{SAN: conformanceIdentity, Issuer: conformanceIssuer}
				if s := readOptional(t, filepath.Join(dir, "identity")); s != nil {
					id.SAN = strings.TrimSpace(string(s))
				}
				if s := readOptional(t, filepath.Join(dir, "issuer")); s != nil {
					id.Issuer = strings.TrimSpace(string(s))
				}
				opts.Identities = []Identity{id}
			}
			trust, err := NewTrust(opts)
			var v *Verified
			if err == nil {
				v, err = VerifyBundle(bundleJSON, ArtifactRef{Reader: bytes.NewReader(artifact)}, trust)
			}
			failed := err != nil
			if reason, ok := conformanceDeviations[name]; ok {
				t.Logf("expected deviation: %s", reason)
				failed = !failed
			}
			switch {
			case wantFail && !failed:
				t.Errorf("verified, want failure: %s", v.Describe())
			case !wantFail && failed:
				t.Errorf("failed, want pass: %v", err)
			case err != nil:
				t.Logf("fails as expected: %v", err)
			default:
				t.Logf("passes: %s", Check(name, v, nil).Detail)
			}
		})
		if _, dev := conformanceDeviations[name]; ok && !dev {
			expected++
		}
	}
	t.Logf("conformance: %d of %d bundle-verify cases give the expected result; %d differ as listed in conformanceDeviations", expected, total, len(conformanceDeviations))
	if total != 70 {
		t.Errorf("found %d cases, want 70", total)
	}
}

// TestConformanceDeviations shows the reason of each listed deviation: with the production
// TSA's certificate chain (as the suite's bundle-with-sct-with-extensions root carries it)
// added to the embedded root, managed-key-happy-path verifies.
func TestConformanceDeviations(t *testing.T) {
	base := filepath.Join(testdata, "sigstore-conformance", "bundle-verify")
	var embedded, withTSA map[string]any
	if err := json.Unmarshal(PublicGoodTrustedRoot(), &embedded); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readOptional(t, filepath.Join(base, "bundle-with-sct-with-extensions", "trusted_root.json")), &withTSA); err != nil {
		t.Fatal(err)
	}
	embedded["timestampAuthorities"] = withTSA["timestampAuthorities"]
	rootJSON, err := json.Marshal(embedded)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "managed-key-happy-path")
	artifact := readOptional(t, filepath.Join(testdata, "sigstore-conformance", "a.txt"))
	bundleJSON := readOptional(t, filepath.Join(dir, "bundle.sigstore.json"))
	key := readOptional(t, filepath.Join(dir, "key.pub"))
	for _, tc := range []struct {
		name     string
		root     []byte
		wantPass bool
	}{{"embedded root", nil, false}, {"embedded root with the production TSA", rootJSON, true}} {
		trust, err := NewTrust(TrustOptions{TrustedRootJSON: tc.root, Keys: [][]byte{key}})
		if err != nil {
			t.Fatal(err)
		}
		v, err := VerifyBundle(bundleJSON, ArtifactRef{Reader: bytes.NewReader(artifact)}, trust)
		if (err == nil) != tc.wantPass {
			t.Errorf("%s: err = %v, want pass %v", tc.name, err, tc.wantPass)
		}
		if err == nil && !strings.Contains(v.Describe(), "timestamp.sigstore.dev") {
			t.Errorf("%s: detail %q does not name the TSA", tc.name, v.Describe())
		}
	}
}
