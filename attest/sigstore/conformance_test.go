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
		ok := t.Run(name, func(t *testing.T) {
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
