package sigstore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"

	"kensa.dev/kensa/internal/result"
)

// Rows S1, S3, S4, S6, S7 (DSSE), B3 and B7 (Sigstore bundles) of the bad-input
// catalogue (shared/reference/bad-inputs.md §7). The DSSE envelopes are signed here with
// an ECDSA P-256 key, as `cosign attest-blob --key … --tlog-upload=false` signs them, and
// go through both of kensa's DSSE paths: a Sigstore bundle (VerifyBundle) and the DSSE
// layer of cosign's .att image tag (VerifyImage).

// dsseKey is a signing key of the tests and the trust that pins it.
type dsseKey struct {
	priv  *ecdsa.PrivateKey
	pem   []byte
	hint  string // cosign's key hint: base64 of the SHA-256 of the key's DER
	trust *Trust
}

func newDSSEKey(t *testing.T) *dsseKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	k := &dsseKey{priv: priv, pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), hint: base64.StdEncoding.EncodeToString(sum[:])}
	k.trust = keyTrust(t, k)
	return k
}

// keyTrust trusts the given keys, in that order, under the public-good root.
func keyTrust(t *testing.T, keys ...*dsseKey) *Trust {
	t.Helper()
	var pems [][]byte
	for _, k := range keys {
		pems = append(pems, k.pem)
	}
	trust, err := NewTrust(TrustOptions{Keys: pems})
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// sign signs msg as sigstore's ECDSA P-256 verifier expects: over its SHA-256.
func (k *dsseKey) sign(t *testing.T, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// pae is DSSE's pre-authentication encoding, lengths in bytes as the protocol says.
func pae(payloadType string, payload []byte) []byte {
	return append([]byte(fmt.Sprintf("DSSEv1 %d %s %d ", len(payloadType), payloadType, len(payload))), payload...)
}

// paeRunes is the mistake of dsse PR #7/#27: lengths counted in characters.
func paeRunes(payloadType string, payload []byte) []byte {
	return append([]byte(fmt.Sprintf("DSSEv1 %d %s %d ", utf8.RuneCountInString(payloadType), payloadType, utf8.RuneCount(payload))), payload...)
}

// envelope is a DSSE envelope under construction.
type envelope struct {
	payloadType string
	payload     []byte
	sigs        [][]byte
	keyIDs      []string
}

// bundle writes the envelope as a v0.3 Sigstore bundle naming the key by its hint.
func (e envelope) bundle(t *testing.T, hint string) []byte {
	t.Helper()
	env := &protodsse.Envelope{Payload: e.payload, PayloadType: e.payloadType}
	for i, s := range e.sigs {
		sig := &protodsse.Signature{Sig: s}
		if i < len(e.keyIDs) {
			sig.Keyid = e.keyIDs[i]
		}
		env.Signatures = append(env.Signatures, sig)
	}
	data, err := protojson.Marshal(&protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// layer writes the envelope as cosign stores it in a layer of an image's .att tag.
func (e envelope) layer(t *testing.T) ImageLayer {
	t.Helper()
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	doc := struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []sig  `json:"signatures"`
	}{PayloadType: e.payloadType, Payload: base64.StdEncoding.EncodeToString(e.payload), Signatures: []sig{}}
	for i, s := range e.sigs {
		g := sig{Sig: base64.StdEncoding.EncodeToString(s)}
		if i < len(e.keyIDs) {
			g.KeyID = e.keyIDs[i]
		}
		doc.Signatures = append(doc.Signatures, g)
	}
	return ImageLayer{MediaType: mediaDSSE, Data: mustJSON(t, doc)}
}

// inTotoType is the DSSE payload type of in-toto statements.
const inTotoType = "application/vnd.in-toto+json"

// statementAbout is an in-toto statement about an artifact named name with digest hexDigest.
func statementAbout(name, hexDigest string) []byte {
	return []byte(fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":%q,"digest":{"sha256":%q}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://example.com/build"}}}`, name, hexDigest))
}

// dsseOutcome is how both DSSE paths judged one envelope.
type dsseOutcome struct {
	bundle, layer result.Check
	verified      *Verified // from the bundle path
}

// verifyBoth runs the envelope through VerifyBundle and through VerifyImage as an .att
// layer, for the artifact with the given hex digest.
func verifyBoth(t *testing.T, e envelope, hint, hexDigest string, trust *Trust) dsseOutcome {
	t.Helper()
	v, err := VerifyBundle(e.bundle(t, hint), ArtifactRef{SHA256: hexDigest}, trust)
	out := dsseOutcome{bundle: Check("app.tar.gz", v, err), verified: v}
	checks, _ := VerifyImage("registry.example/app", "sha256:"+hexDigest,
		[]ImageAttachment{{Source: "tag", Ref: "sha256-" + hexDigest + ".att", Layers: []ImageLayer{e.layer(t)}}}, trust)
	found := 0
	for _, c := range checks {
		if c.Name == CheckName {
			out.layer = c
			found++
		}
	}
	if found != 1 {
		t.Fatalf("VerifyImage gave %d attestation checks, want 1: %+v", found, checks)
	}
	return out
}

// expectBoth asserts the status of both paths and that each detail holds every part.
func (o dsseOutcome) expectBoth(t *testing.T, status string, parts ...string) {
	t.Helper()
	for _, c := range []struct {
		path  string
		check result.Check
	}{{"bundle", o.bundle}, {".att layer", o.layer}} {
		t.Logf("%s: %s: %s", c.path, c.check.Status, c.check.Detail)
		if c.check.Status != status {
			t.Errorf("%s: status %s, want %s (%s)", c.path, c.check.Status, status, c.check.Detail)
		}
		for _, p := range parts {
			if !strings.Contains(c.check.Detail, p) {
				t.Errorf("%s: detail %q does not say %q", c.path, c.check.Detail, p)
			}
		}
	}
}

// TestS1SignatureOverRawPayload: a signature made over the payload itself instead of its
// PAE does not verify, though it is a valid signature by the pinned key over the very
// bytes of the statement (DSSE protocol; mareforma #28).
func TestS1SignatureOverRawPayload(t *testing.T) {
	k := newDSSEKey(t)
	sum := sha256.Sum256([]byte("app bytes"))
	digest := hex.EncodeToString(sum[:])
	st := statementAbout("app.tar.gz", digest)

	good := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, pae(inTotoType, st))}}
	o := verifyBoth(t, good, k.hint, digest, k.trust)
	o.expectBoth(t, result.Pass, "in-toto statement, predicate https://slsa.dev/provenance/v1")
	if o.verified == nil || o.verified.Statement == nil || !bytes.Equal(o.verified.Statement.Raw, st) {
		t.Fatalf("control: verified statement = %+v", o.verified)
	}

	raw := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, st)}}
	verifyBoth(t, raw, k.hint, digest, k.trust).expectBoth(t, result.Fail, "could not verify envelope")
}

// TestS3NonASCIIPAELengths: PAE lengths are byte lengths. A statement with a non-ASCII
// subject name verifies when the signer counted bytes and fails when it counted
// characters; a non-ASCII payloadType signed with byte lengths has a good signature (the
// failure then names the payload type, which kensa refuses unless it is in-toto's),
// signed with character counts it has a bad one.
func TestS3NonASCIIPAELengths(t *testing.T) {
	k := newDSSEKey(t)
	sum := sha256.Sum256([]byte("アプリ bytes"))
	digest := hex.EncodeToString(sum[:])
	st := statementAbout("アプリ-1.0.tar.gz", digest)
	if utf8.RuneCount(st) == len(st) {
		t.Fatal("the statement is ASCII")
	}

	t.Run("non-ASCII payload, byte lengths", func(t *testing.T) {
		e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, pae(inTotoType, st))}}
		o := verifyBoth(t, e, k.hint, digest, k.trust)
		o.expectBoth(t, result.Pass, "in-toto statement")
		if o.verified.Statement.Subjects[0].Name != "アプリ-1.0.tar.gz" {
			t.Errorf("subject = %+v", o.verified.Statement.Subjects)
		}
	})
	t.Run("non-ASCII payload, character counts", func(t *testing.T) {
		e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, paeRunes(inTotoType, st))}}
		verifyBoth(t, e, k.hint, digest, k.trust).expectBoth(t, result.Fail, "could not verify envelope")
	})

	const nonASCIIType = "application/vnd.in-toto+json; 署名"
	t.Run("non-ASCII payloadType, byte lengths", func(t *testing.T) {
		e := envelope{payloadType: nonASCIIType, payload: st, sigs: [][]byte{k.sign(t, pae(nonASCIIType, st))}}
		o := verifyBoth(t, e, k.hint, digest, k.trust)
		o.expectBoth(t, result.Fail, "unsupported media type")
		for _, c := range []result.Check{o.bundle, o.layer} {
			if strings.Contains(c.Detail, "could not verify envelope") {
				t.Errorf("the signature over the byte-length PAE was refused: %s", c.Detail)
			}
		}
	})
	t.Run("non-ASCII payloadType, character counts", func(t *testing.T) {
		e := envelope{payloadType: nonASCIIType, payload: st, sigs: [][]byte{k.sign(t, paeRunes(nonASCIIType, st))}}
		verifyBoth(t, e, k.hint, digest, k.trust).expectBoth(t, result.Fail, "could not verify envelope")
	})
}

// TestS4PAEOverBase64: a signature over the PAE of the base64 text of the payload, not of
// its decoded bytes, does not verify (in-toto-java PR #24 review).
func TestS4PAEOverBase64(t *testing.T) {
	k := newDSSEKey(t)
	sum := sha256.Sum256([]byte("app bytes"))
	digest := hex.EncodeToString(sum[:])
	st := statementAbout("app.tar.gz", digest)
	b64 := []byte(base64.StdEncoding.EncodeToString(st))
	e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, pae(inTotoType, b64))}}
	verifyBoth(t, e, k.hint, digest, k.trust).expectBoth(t, result.Fail, "could not verify envelope")

	// The URL-safe alphabet does not help either.
	u64 := []byte(base64.URLEncoding.EncodeToString(st))
	e.sigs = [][]byte{k.sign(t, pae(inTotoType, u64))}
	verifyBoth(t, e, k.hint, digest, k.trust).expectBoth(t, result.Fail, "could not verify envelope")
}

// TestS6DuplicatedSignatures: kensa has no signature threshold: an envelope must carry
// exactly one signature, by a pinned signer. The same signature repeated, or several
// good signatures by the same key, are refused outright rather than counted, on both
// paths; a key listed several times in the trust still yields one signer.
func TestS6DuplicatedSignatures(t *testing.T) {
	k := newDSSEKey(t)
	sum := sha256.Sum256([]byte("app bytes"))
	digest := hex.EncodeToString(sum[:])
	st := statementAbout("app.tar.gz", digest)
	one := k.sign(t, pae(inTotoType, st))

	t.Run("same signature three times", func(t *testing.T) {
		e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{one, one, one}}
		o := verifyBoth(t, e, k.hint, digest, k.trust)
		o.expectBoth(t, result.Fail)
		if !strings.Contains(o.bundle.Detail, "exactly one signature") && !strings.Contains(o.bundle.Detail, "signature count") {
			t.Errorf("bundle: %q does not name the signature count", o.bundle.Detail)
		}
		if !strings.Contains(o.layer.Detail, "3 signatures, want 1") {
			t.Errorf(".att layer: %q does not name the signature count", o.layer.Detail)
		}
	})
	t.Run("three good signatures by one key", func(t *testing.T) {
		sigs := [][]byte{one, k.sign(t, pae(inTotoType, st)), k.sign(t, pae(inTotoType, st))}
		if bytes.Equal(sigs[0], sigs[1]) {
			t.Fatal("ECDSA signatures repeat")
		}
		e := envelope{payloadType: inTotoType, payload: st, sigs: sigs}
		o := verifyBoth(t, e, k.hint, digest, k.trust)
		o.expectBoth(t, result.Fail)
		if !strings.Contains(o.layer.Detail, "3 signatures, want 1") {
			t.Errorf(".att layer: %q does not name the signature count", o.layer.Detail)
		}
	})
	t.Run("one signature, key trusted three times", func(t *testing.T) {
		e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{one}}
		o := verifyBoth(t, e, k.hint, digest, keyTrust(t, k, k, k))
		o.expectBoth(t, result.Pass, "signed by key "+o.verified.KeyFingerprint+";")
		if strings.Count(o.bundle.Detail, "sha256:") != 1 {
			t.Errorf("more than one signer reported: %s", o.bundle.Detail)
		}
	})
}

// TestS7InvalidThenValidSignature: the policy for envelopes with several signatures
// (documented in the package comment) is that a DSSE envelope must carry exactly one
// signature, so an invalid signature before or after a valid one fails the same way, on
// every run. With several trusted keys the one signature is tried against each, the
// key its hint names first; the hint is not trusted and the order of the keys does not
// change the result.
func TestS7InvalidThenValidSignature(t *testing.T) {
	k, other := newDSSEKey(t), newDSSEKey(t)
	sum := sha256.Sum256([]byte("app bytes"))
	digest := hex.EncodeToString(sum[:])
	st := statementAbout("app.tar.gz", digest)
	valid := k.sign(t, pae(inTotoType, st))
	invalid := other.sign(t, pae(inTotoType, st)) // by a key the trust does not name

	var details []string
	for run := range 3 {
		for _, order := range []struct {
			name string
			sigs [][]byte
		}{{"invalid first", [][]byte{invalid, valid}}, {"valid first", [][]byte{valid, invalid}}} {
			e := envelope{payloadType: inTotoType, payload: st, sigs: order.sigs, keyIDs: []string{"a", "b"}}
			o := verifyBoth(t, e, k.hint, digest, k.trust)
			if o.bundle.Status != result.Fail || o.layer.Status != result.Fail {
				t.Fatalf("run %d, %s: %s %q / %s %q, want fail", run, order.name, o.bundle.Status, o.bundle.Detail, o.layer.Status, o.layer.Detail)
			}
			if !strings.Contains(o.layer.Detail, "2 signatures, want 1") {
				t.Errorf("run %d, %s: .att layer: %q", run, order.name, o.layer.Detail)
			}
			details = append(details, o.bundle.Detail+"\n"+o.layer.Detail)
		}
	}
	for i := range details {
		if details[i] != details[0] {
			t.Errorf("the result depends on the order of the signatures or the run:\n%s\n---\n%s", details[0], details[i])
		}
	}

	// One signature, several trusted keys: whatever the order and whatever the hint says,
	// the signer is the key that verifies.
	e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{valid}}
	var fingerprint string
	for _, tc := range []struct {
		name  string
		hint  string
		trust *Trust
	}{
		{"signer's key listed second", k.hint, keyTrust(t, other, k)},
		{"signer's key listed first", k.hint, keyTrust(t, k, other)},
		{"hint names the other key", other.hint, keyTrust(t, other, k)},
		{"no hint", "", keyTrust(t, other, k)},
	} {
		o := verifyBoth(t, e, tc.hint, digest, tc.trust)
		if o.bundle.Status != result.Pass || o.layer.Status != result.Pass {
			t.Fatalf("%s: %s %q / %s %q, want pass", tc.name, o.bundle.Status, o.bundle.Detail, o.layer.Status, o.layer.Detail)
		}
		if fingerprint == "" {
			fingerprint = o.verified.KeyFingerprint
		}
		if o.verified.KeyFingerprint != fingerprint {
			t.Errorf("%s: signer %s, want %s", tc.name, o.verified.KeyFingerprint, fingerprint)
		}
	}
	if want := keyTrust(t, k).keys[0].Fingerprint; fingerprint != want {
		t.Errorf("signer %s, want the signing key %s", fingerprint, want)
	}
	o := verifyBoth(t, e, k.hint, digest, keyTrust(t, other))
	o.expectBoth(t, result.Fail, "does not verify with the trusted key")
}

// virtualBundleProto is a virtual-Sigstore message signature as a v0.1 bundle (see
// bundleJSON), decoded for editing.
func virtualBundleProto(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity) *protobundle.Bundle {
	t.Helper()
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(bundleJSON(t, vs, e), &pb); err != nil {
		t.Fatal(err)
	}
	return &pb
}

func marshalBundle(t *testing.T, pb *protobundle.Bundle) []byte {
	t.Helper()
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// entryCopy is a copy of a transparency-log entry.
func entryCopy(e *protorekor.TransparencyLogEntry) *protorekor.TransparencyLogEntry {
	return &protorekor.TransparencyLogEntry{
		LogIndex: e.LogIndex, LogId: &protocommon.LogId{KeyId: bytes.Clone(e.LogId.KeyId)},
		KindVersion: e.KindVersion, IntegratedTime: e.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: bytes.Clone(e.InclusionPromise.SignedEntryTimestamp)},
		CanonicalizedBody: bytes.Clone(e.CanonicalizedBody),
	}
}

// TestB3PartlyInvalidBundles: a bundle that is partly invalid fails, even when what
// remains of it would verify; no weaker path (fewer entries, fewer timestamps, the
// detached-signature form, the other bundle format) turns it into a pass
// (CVE-2022-36056 parts 3 and 4).
func TestB3PartlyInvalidBundles(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "release@example.com"
		issuer = "https://accounts.example.com"
	)
	artifact := []byte("firmware image")
	entity, err := vs.Sign(san, issuer, artifact)
	if err != nil {
		t.Fatal(err)
	}
	trust := virtualTrust(t, vs, Identity{SAN: san, Issuer: issuer})
	good := virtualBundleProto(t, vs, entity)
	edit := func(f func(pb *protobundle.Bundle)) []byte {
		pb := virtualBundleProto(t, vs, entity)
		f(pb)
		return marshalBundle(t, pb)
	}
	entry := good.VerificationMaterial.TlogEntries[0]

	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
		detail string
	}{
		{"control", marshalBundle(t, good), result.Pass, "1 transparency-log entry"},
		// sigstore-go skips an entry whose signed entry timestamp does not verify, or
		// whose log the trusted root does not name, while another entry meets its
		// threshold of one.
		{"second entry, signed entry timestamp not for it", edit(func(pb *protobundle.Bundle) {
			bad := entryCopy(entry)
			bad.LogIndex++
			pb.VerificationMaterial.TlogEntries = append(pb.VerificationMaterial.TlogEntries, bad)
		}), result.Fail, "entry 2 of 2: its signed entry timestamp does not verify"},
		{"second entry, corrupted signed entry timestamp", edit(func(pb *protobundle.Bundle) {
			bad := entryCopy(entry)
			bad.LogIndex++
			bad.InclusionPromise.SignedEntryTimestamp[10] ^= 0xff
			pb.VerificationMaterial.TlogEntries = append([]*protorekor.TransparencyLogEntry{bad}, pb.VerificationMaterial.TlogEntries...)
		}), result.Fail, "entry 1 of 2: its signed entry timestamp does not verify"},
		{"second entry from a log the root does not name", edit(func(pb *protobundle.Bundle) {
			bad := entryCopy(entry)
			bad.LogId.KeyId = bytes.Repeat([]byte{0x42}, 32)
			pb.VerificationMaterial.TlogEntries = append(pb.VerificationMaterial.TlogEntries, bad)
		}), result.Fail, "entry 2 of 2 is from a log the trusted root does not name"},
		// sigstore-go ignores a timestamp that does not verify while another meets its
		// threshold of one.
		{"second timestamp that does not verify", edit(func(pb *protobundle.Bundle) {
			ts := pb.VerificationMaterial.TimestampVerificationData
			ts.Rfc3161Timestamps = append(ts.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: []byte("not a time-stamp token")})
		}), result.Fail, "signed timestamps: 1 < 2"},
		{"second timestamp over another signature", edit(func(pb *protobundle.Bundle) {
			other, err := vs.TimestampResponse([]byte("another signature"))
			if err != nil {
				t.Fatal(err)
			}
			ts := pb.VerificationMaterial.TimestampVerificationData
			ts.Rfc3161Timestamps = append([]*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: other}}, ts.Rfc3161Timestamps...)
		}), result.Fail, "signed timestamps: 1 < 2"},
		// Without its log entry a keyless signature has no weaker path to a pass.
		{"log entry removed", edit(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries = nil
		}), result.Fail, "not enough verified log entries"},
		{"log entry and timestamp removed", edit(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries = nil
			pb.VerificationMaterial.TimestampVerificationData = nil
		}), result.Fail, "carries no signed entry timestamp or RFC 3161 timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyBundle(tc.bundle, ArtifactRef{Reader: bytes.NewReader(artifact)}, trust)
			c := Check("firmware.img", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("check %s %q, want %s with %q", c.Status, c.Detail, tc.want, tc.detail)
			}
		})
	}

	// A key signature needs no log entry, but one that is present must verify: an entry
	// from the public-good log recording another signature is not skipped.
	t.Run("key signature with a log entry of another signature", func(t *testing.T) {
		k := newDSSEKey(t)
		sum := sha256.Sum256([]byte("app bytes"))
		digest := hex.EncodeToString(sum[:])
		st := statementAbout("app.tar.gz", digest)
		e := envelope{payloadType: inTotoType, payload: st, sigs: [][]byte{k.sign(t, pae(inTotoType, st))}}
		plain := e.bundle(t, k.hint)
		if v, err := VerifyBundle(plain, ArtifactRef{SHA256: digest}, k.trust); err != nil {
			t.Fatalf("control: %v", err)
		} else if v.TlogEntries != 0 {
			t.Fatalf("control: %+v", v)
		}
		var pb protobundle.Bundle
		if err := protojson.Unmarshal(plain, &pb); err != nil {
			t.Fatal(err)
		}
		var foreign protobundle.Bundle
		if err := protojson.Unmarshal(mustJSON(t, conformanceCase(t, "happy-path-intoto-in-dsse-v3")), &foreign); err != nil {
			t.Fatal(err)
		}
		pb.VerificationMaterial.TlogEntries = foreign.GetVerificationMaterial().GetTlogEntries()
		if len(pb.VerificationMaterial.TlogEntries) != 1 {
			t.Fatalf("the conformance bundle has %d entries", len(pb.VerificationMaterial.TlogEntries))
		}
		v, err := VerifyBundle(marshalBundle(t, &pb), ArtifactRef{SHA256: digest}, k.trust)
		c := Check("app.tar.gz", v, err)
		t.Logf("%s: %s", c.Status, c.Detail)
		if c.Status != result.Fail || !strings.Contains(c.Detail, "transparency log") {
			t.Fatalf("check %s %q, want fail naming the transparency log", c.Status, c.Detail)
		}
	})

	// cosign's old bundle, made from a real v0.1 bundle: a corrupted signed entry
	// timestamp fails, it is not checked as a detached signature instead; without its
	// Rekor bundle it is a detached signature with a certificate, which is never a pass.
	t.Run("legacy bundle", func(t *testing.T) {
		a := readOptional(t, filepath.Join(testdata, "sigstore-conformance", "a.txt"))
		ctrust := conformanceTrust(t, conformanceIdentity)
		legacy := toLegacy(t, conformanceCase(t, "happy-path-v0.1"))
		badSET := toLegacy(t, conformanceCase(t, "happy-path-v0.1"))
		rb := badSET["rekorBundle"].(map[string]any)
		set, err := base64.StdEncoding.DecodeString(rb["SignedEntryTimestamp"].(string))
		if err != nil {
			t.Fatal(err)
		}
		set[12] ^= 0xff
		rb["SignedEntryTimestamp"] = base64.StdEncoding.EncodeToString(set)
		noRekor := toLegacy(t, conformanceCase(t, "happy-path-v0.1"))
		delete(noRekor, "rekorBundle")
		for _, tc := range []struct {
			name   string
			bundle map[string]any
			want   string
			detail string
		}{
			{"control", legacy, result.Pass, "legacy-bundle verified"},
			{"corrupted signed entry timestamp", badSET, result.Fail, "signed entry timestamp does not verify"},
			{"Rekor bundle removed", noRekor, result.Erred, "carries no transparency-log entry or timestamp"},
		} {
			checks, _ := VerifyAttachment(Attachment{Artifact: "a.txt", Path: "a.txt.bundle", Kind: KindBundle},
				func(string) ([]byte, error) { return mustJSON(t, tc.bundle), nil }, hex.EncodeToString(sha256Sum(a)), ctrust)
			if len(checks) != 1 || checks[0].Status != tc.want || !strings.Contains(checks[0].Detail, tc.detail) {
				t.Errorf("%s: %+v, want %s with %q", tc.name, checks, tc.want, tc.detail)
			}
		}
		// A document with the fields of both formats is read as a Sigstore bundle, which
		// refuses the legacy fields; it does not fall back to the legacy reading.
		hybrid := conformanceCase(t, "happy-path-v0.1")
		hybrid["base64Signature"] = legacy["base64Signature"]
		checks, _ := VerifyAttachment(Attachment{Artifact: "a.txt", Path: "a.txt.bundle", Kind: KindBundle},
			func(string) ([]byte, error) { return mustJSON(t, hybrid), nil }, hex.EncodeToString(sha256Sum(a)), ctrust)
		if len(checks) != 1 || checks[0].Status != result.Fail || !strings.Contains(checks[0].Detail, "not a valid Sigstore bundle") {
			t.Errorf("hybrid bundle: %+v", checks)
		}
	})
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestB7DuplicateWitnesses: a transparency-log entry or an RFC 3161 timestamp repeated
// in a bundle fails it: a bundle proves nothing more by repeating a witness, and kensa
// reports the witnesses a bundle carries as verified, so each must count once.
func TestB7DuplicateWitnesses(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "release@example.com"
		issuer = "https://accounts.example.com"
	)
	artifact := []byte("firmware image")
	entity, err := vs.Sign(san, issuer, artifact)
	if err != nil {
		t.Fatal(err)
	}
	trust := virtualTrust(t, vs, Identity{SAN: san, Issuer: issuer})
	edit := func(f func(pb *protobundle.Bundle)) []byte {
		pb := virtualBundleProto(t, vs, entity)
		f(pb)
		return marshalBundle(t, pb)
	}
	// A second, valid entry of the same log for the same signature (another log index
	// with its own signed entry timestamp) is a distinct witness and counts.
	second := edit(func(pb *protobundle.Bundle) {
		e := entryCopy(pb.VerificationMaterial.TlogEntries[0])
		e.LogIndex += 7
		set, err := vs.RekorSignPayload(tlog.RekorPayload{
			Body:           base64.StdEncoding.EncodeToString(e.CanonicalizedBody),
			IntegratedTime: e.IntegratedTime, LogIndex: e.LogIndex, LogID: hex.EncodeToString(e.LogId.KeyId),
		})
		if err != nil {
			t.Fatal(err)
		}
		e.InclusionPromise.SignedEntryTimestamp = set
		pb.VerificationMaterial.TlogEntries = append(pb.VerificationMaterial.TlogEntries, e)
	})
	for _, tc := range []struct {
		name    string
		bundle  []byte
		want    string
		detail  string
		entries int
	}{
		{"control", edit(func(*protobundle.Bundle) {}), result.Pass, "1 transparency-log entry", 1},
		{"log entry twice", edit(func(pb *protobundle.Bundle) {
			pb.VerificationMaterial.TlogEntries = append(pb.VerificationMaterial.TlogEntries, entryCopy(pb.VerificationMaterial.TlogEntries[0]))
		}), result.Fail, "duplicate tlog entries", 0},
		{"timestamp twice", edit(func(pb *protobundle.Bundle) {
			ts := pb.VerificationMaterial.TimestampVerificationData
			ts.Rfc3161Timestamps = append(ts.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: bytes.Clone(ts.Rfc3161Timestamps[0].SignedTimestamp)})
		}), result.Fail, "duplicate timestamps from the same authority", 0},
		{"two timestamps from one authority", edit(func(pb *protobundle.Bundle) {
			sc, err := entity.SignatureContent()
			if err != nil {
				t.Fatal(err)
			}
			again, err := vs.TimestampResponse(sc.Signature())
			if err != nil {
				t.Fatal(err)
			}
			ts := pb.VerificationMaterial.TimestampVerificationData
			if bytes.Equal(again, ts.Rfc3161Timestamps[0].SignedTimestamp) {
				t.Fatal("the time-stamping authority gave the same token twice")
			}
			ts.Rfc3161Timestamps = append(ts.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: again})
		}), result.Fail, "duplicate timestamps from the same authority", 0},
		{"two distinct entries of one log", second, result.Pass, "2 transparency-log entries", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := VerifyBundle(tc.bundle, ArtifactRef{Reader: bytes.NewReader(artifact)}, trust)
			c := Check("firmware.img", v, err)
			t.Logf("%s: %s", c.Status, c.Detail)
			if c.Status != tc.want || !strings.Contains(c.Detail, tc.detail) {
				t.Fatalf("check %s %q, want %s with %q", c.Status, c.Detail, tc.want, tc.detail)
			}
			if c.Status != result.Pass {
				return
			}
			// Each witness is reported once: the log's time once, the authority's once.
			kinds := map[string]int{}
			for _, ts := range v.Timestamps {
				kinds[ts.Kind]++
			}
			if v.TlogEntries != tc.entries || kinds["tlog"] != 1 || kinds["tsa"] != 1 {
				t.Errorf("verified %d entries, timestamps %v; want %d entries, one time per log and authority", v.TlogEntries, kinds, tc.entries)
			}
		})
	}
}
