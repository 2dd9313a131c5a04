package sigstore

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// conformanceCase reads a conformance bundle as generic JSON.
func conformanceCase(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readOptional(t, filepath.Join(testdata, "sigstore-conformance", "bundle-verify", name, "bundle.sigstore.json")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func conformanceTrust(t *testing.T, san string) *Trust {
	t.Helper()
	trust, err := NewTrust(TrustOptions{Identities: []Identity{{SAN: san, Issuer: conformanceIssuer}}})
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// toLegacy writes a v0.1/v0.2 bundle in cosign's old bundle format.
func toLegacy(t *testing.T, b map[string]any) map[string]any {
	t.Helper()
	vm := b["verificationMaterial"].(map[string]any)
	var certB64 string
	if chain, ok := vm["x509CertificateChain"].(map[string]any); ok {
		certB64 = chain["certificates"].([]any)[0].(map[string]any)["rawBytes"].(string)
	} else {
		certB64 = vm["certificate"].(map[string]any)["rawBytes"].(string)
	}
	der, _ := base64.StdEncoding.DecodeString(certB64)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	e := vm["tlogEntries"].([]any)[0].(map[string]any)
	logID, _ := base64.StdEncoding.DecodeString(e["logId"].(map[string]any)["keyId"].(string))
	var idx, it json.Number = json.Number(e["logIndex"].(string)), json.Number(e["integratedTime"].(string))
	return map[string]any{
		"base64Signature": b["messageSignature"].(map[string]any)["signature"],
		"cert":            base64.StdEncoding.EncodeToString(certPEM),
		"rekorBundle": map[string]any{
			"SignedEntryTimestamp": e["inclusionPromise"].(map[string]any)["signedEntryTimestamp"],
			"Payload": map[string]any{
				"body":           e["canonicalizedBody"],
				"integratedTime": it,
				"logIndex":       idx,
				"logID":          hex.EncodeToString(logID),
			},
		},
	}
}

// TestBadInputs covers the series B, S, X and J of bad-inputs.md that concern bundles.
func TestBadInputs(t *testing.T) {
	artifact := readOptional(t, filepath.Join(testdata, "sigstore-conformance", "a.txt"))
	art := func() ArtifactRef { return ArtifactRef{Reader: bytes.NewReader(artifact)} }
	trust := conformanceTrust(t, conformanceIdentity)

	v3 := conformanceCase(t, "happy-path-v0.3")
	dsse := conformanceCase(t, "happy-path-intoto-in-dsse-v3")
	v1 := conformanceCase(t, "happy-path-v0.1")

	clone := func(m map[string]any) map[string]any {
		var c map[string]any
		if err := json.Unmarshal(mustJSON(t, m), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	vm := func(m map[string]any) map[string]any { return m["verificationMaterial"].(map[string]any) }

	// B8: 33 transparency-log entries.
	many := clone(v3)
	entries := vm(many)["tlogEntries"].([]any)
	for len(entries) < MaxEntries+1 {
		entries = append(entries, entries[0])
	}
	vm(many)["tlogEntries"] = entries
	// X1: a certificate chain of 11 certificates.
	longChain := clone(v1)
	chain := vm(longChain)["x509CertificateChain"].(map[string]any)
	certs := chain["certificates"].([]any)
	for len(certs) <= MaxChain {
		certs = append(certs, certs[len(certs)-1])
	}
	chain["certificates"] = certs
	// S5: a DSSE envelope with two signatures (the same one twice).
	twoSigs := clone(dsse)
	env := twoSigs["dsseEnvelope"].(map[string]any)
	env["signatures"] = append(env["signatures"].([]any), env["signatures"].([]any)[0])
	// S2: payloadType changed.
	otherType := clone(dsse)
	otherType["dsseEnvelope"].(map[string]any)["payloadType"] = "application/json"
	// J2: a duplicate key.
	v3JSON := mustJSON(t, v3)
	dup := append([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",`), v3JSON[1:]...)
	// J1: deep nesting.
	deep := []byte(strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1))

	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
		detail string
	}{
		{"happy path (control)", v3JSON, result.Pass, "transparency log"},
		{"B8 33 tlog entries", mustJSON(t, many), result.Erred, "more than 32"},
		{"X1 11 certificates in the chain", mustJSON(t, longChain), result.Fail, "more than 10"},
		{"S5 two DSSE signatures", mustJSON(t, twoSigs), result.Fail, ""},
		{"S2 payloadType changed", mustJSON(t, otherType), result.Fail, ""},
		{"J1 nesting", deep, result.Fail, "nested deeper"},
		{"J2 duplicate key", dup, result.Fail, "not a valid Sigstore bundle"},
		{"J3 trailing data", append(append([]byte{}, v3JSON...), []byte(` {}`)...), result.Fail, "not a valid Sigstore bundle"},
		{"J5 oversized", append(append([]byte{}, v3JSON...), bytes.Repeat([]byte(" "), MaxBundleSize)...), result.Erred, "larger than"},
		{"empty", nil, result.Fail, "not a valid Sigstore bundle"},
		{"null", []byte("null"), result.Fail, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyBundle(tc.bundle, art(), trust)
			c := Check("a.txt", v, err)
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("check %s %q, want %s with %q", c.Status, c.Detail, tc.want, tc.detail)
			}
		})
	}

	// B1/B4: cosign's old bundle, made from a real v0.1 bundle, verifies; spliced from
	// two bundles (signature or certificate of one, Rekor entry of the other) it fails.
	legacy := toLegacy(t, v1)
	if _, err := VerifyLegacy(Legacy{Bundle: mustJSON(t, toLegacy(t, v3))}, art(), trust); err != nil {
		t.Fatalf("the other legacy bundle does not verify on its own: %v", err)
	}
	other := toLegacy(t, v3) // another signature of a.txt by the same identity
	splicedSig := clone(legacy)
	splicedSig["base64Signature"] = other["base64Signature"]
	splicedCert := clone(legacy)
	splicedCert["cert"] = other["cert"]
	splicedEntry := clone(legacy)
	splicedEntry["rekorBundle"] = other["rekorBundle"]
	bodyNotString := clone(legacy)
	bodyNotString["rekorBundle"].(map[string]any)["Payload"].(map[string]any)["body"] = map[string]any{"kind": "hashedrekord"}
	for _, tc := range []struct {
		name   string
		bundle map[string]any
		want   string
	}{
		{"legacy bundle", legacy, result.Pass},
		{"B1 legacy bundle, signature spliced in", splicedSig, result.Fail},
		{"B1 legacy bundle, certificate spliced in", splicedCert, result.Fail},
		{"B4 legacy bundle, rekor entry spliced in", splicedEntry, result.Fail},
		{"legacy bundle, body not a string", bodyNotString, result.Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyLegacy(Legacy{Bundle: mustJSON(t, tc.bundle)}, art(), trust)
			c := Check("a.txt", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want {
				t.Fatalf("status %s, want %s", c.Status, tc.want)
			}
		})
	}
	wrongID := conformanceTrust(t, "https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main")
	if _, err := VerifyLegacy(Legacy{Bundle: mustJSON(t, legacy)}, art(), wrongID); Status(err) != result.Fail || !strings.Contains(err.Error(), "not a trusted identity") {
		t.Errorf("legacy bundle with wrong identity: %v", err)
	}

	// A detached .sig with its certificate: the signer and signature are checked, but with
	// no trusted time it is never a pass.
	sig := []byte(legacy["base64Signature"].(string))
	certPEM, _ := base64.StdEncoding.DecodeString(legacy["cert"].(string))
	for _, tc := range []struct {
		name   string
		trust  *Trust
		art    []byte
		want   string
		detail string
	}{
		{"detached sig+cert", trust, artifact, result.Erred, "no transparency-log entry"},
		{"detached sig+cert, wrong identity", wrongID, artifact, result.Fail, "not a trusted identity"},
		{"detached sig+cert, other artifact", trust, []byte("other"), result.Fail, "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyLegacy(Legacy{Signature: sig, Certificate: certPEM}, ArtifactRef{Reader: bytes.NewReader(tc.art)}, tc.trust)
			c := Check("a.txt", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("check %s %q, want %s with %q", c.Status, c.Detail, tc.want, tc.detail)
			}
		})
	}
}

// TestNewTrust checks the trust options are validated.
func TestNewTrust(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts TrustOptions
	}{
		{"identity without issuer", TrustOptions{Identities: []Identity{{SAN: "a@example.com"}}}},
		{"identity with SAN and SAN regexp", TrustOptions{Identities: []Identity{{SAN: "a", SANRegexp: "a", Issuer: "i"}}}},
		{"bad regexp", TrustOptions{Identities: []Identity{{SANRegexp: "(", Issuer: "i"}}}},
		{"private key", TrustOptions{Keys: [][]byte{[]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}}},
		{"not PEM", TrustOptions{Keys: [][]byte{[]byte("garbage")}}},
		{"not a KMS URI", TrustOptions{KMSKeys: []string{"/tmp/key.pub"}}},
		{"bad trusted root", TrustOptions{TrustedRootJSON: []byte(`{"mediaType":"x"}`)}},
		{"deep trusted root", TrustOptions{TrustedRootJSON: []byte(strings.Repeat("[", 100))}},
	} {
		if _, err := NewTrust(tc.opts); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if !IsKMSURI("gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k") || IsKMSURI("cosign.pub") {
		t.Error("IsKMSURI")
	}
	var nilTrust *Trust
	if _, err := VerifyBundle([]byte("{}"), ArtifactRef{SHA256: strings.Repeat("0", 64)}, nilTrust); Status(err) != result.Erred {
		t.Errorf("nil trust: %v", err)
	}
	if c := Check("x", &Verified{Keyless: true}, nil); c.Status == result.Pass {
		t.Error("a result without a pinned signer passed")
	}
}

// TestDiscover pairs signature files with their artifacts.
func TestDiscover(t *testing.T) {
	files := []string{
		"dist/app", "dist/app.sigstore.json", "dist/app.sig", "dist/app.pem", "dist/app.bundle",
		"dist/lib.so", "dist/lib.so.sigstore", "dist/lib.so.intoto.jsonl", "dist/lib.so.sig", "dist/lib.so.cert",
		"orphan.sigstore.json", ".sig", "README",
	}
	want := []Attachment{
		{Artifact: "dist/app", Path: "dist/app.bundle", Kind: KindBundle},
		{Artifact: "dist/app", Path: "dist/app.sig", Kind: KindSignature, Certificate: "dist/app.pem"},
		{Artifact: "dist/app", Path: "dist/app.sigstore.json", Kind: KindBundle},
		{Artifact: "dist/lib.so", Path: "dist/lib.so.intoto.jsonl", Kind: KindJSONL},
		{Artifact: "dist/lib.so", Path: "dist/lib.so.sig", Kind: KindSignature, Certificate: "dist/lib.so.cert"},
		{Artifact: "dist/lib.so", Path: "dist/lib.so.sigstore", Kind: KindBundle},
	}
	if got := Discover(files); !reflect.DeepEqual(got, want) {
		t.Errorf("Discover = %+v\nwant %+v", got, want)
	}
	if _, err := SplitJSONL(bytes.Repeat([]byte("{}\n"), MaxBundlesPerFile+1)); Status(err) != result.Erred {
		t.Errorf("SplitJSONL over the limit: %v", err)
	}
}
