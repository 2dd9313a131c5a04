package publish

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"kensa.dev/kensa/analyzers/image"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/internal/result"
)

const cyclonedxPredicate = `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"zlib","version":"1.3.1","purl":"pkg:generic/zlib@1.3.1"}]}`

// kensaVerify reads what is attached to the image as kensa verify does and checks it
// with the public key in keyDir.
func kensaVerify(t *testing.T, ref, digest, keyDir string) ([]result.Check, []*sigstore.Verified) {
	t.Helper()
	attached, err := image.Attachments(context.Background(), ref, digest, image.Options{})
	if err != nil {
		t.Fatalf("image.Attachments: %v", err)
	}
	var in []sigstore.ImageAttachment
	for _, a := range attached {
		sa := sigstore.ImageAttachment{Source: a.Source, Ref: a.Ref, ArtifactType: a.ArtifactType}
		for _, l := range a.Layers {
			sa.Layers = append(sa.Layers, sigstore.ImageLayer{MediaType: l.MediaType, Annotations: l.Annotations, Data: l.Data})
		}
		in = append(in, sa)
	}
	pub, err := os.ReadFile(filepath.Join(keyDir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := sigstore.NewTrust(sigstore.TrustOptions{Keys: [][]byte{pub}})
	if err != nil {
		t.Fatal(err)
	}
	return sigstore.VerifyImage(ref+"@"+digest, digest, in, trust)
}

// TestImageRoundTrip signs and attests an image in a registry with and without the
// referrers API, and checks that the real cosign CLI and kensa's own reader find and
// verify both with the right key, and refuse them with another.
func TestImageRoundTrip(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		name := "referrers-api"
		if !referrers {
			name = "referrers-tag"
		}
		t.Run(name, func(t *testing.T) { imageRoundTrip(t, referrers) })
	}
}

func imageRoundTrip(t *testing.T, referrers bool) {
	ctx := context.Background()
	host := startRegistry(t, referrers)
	digest := pushImage(t, host, "acme/app:1.0")
	keyDir, key := keyPair(t)
	otherDir, _ := keyPair(t)
	s := Signer{Key: key}

	start := time.Now()
	sig, err := SignImage(ctx, s, host+"/acme/app:1.0", RegistryOptions{})
	if err != nil {
		t.Fatalf("SignImage: %v", err)
	}
	t.Logf("SignImage: %v, bundle %d bytes, referrer %s", time.Since(start).Round(time.Millisecond), len(sig.Bundle), sig.Referrer)
	if sig.Digest != digest || sig.Image != host+"/acme/app@"+digest || sig.PredicateType != PredicateCosignSign {
		t.Fatalf("SignImage = %+v, image digest %s", sig, digest)
	}
	att, err := AttestImage(ctx, s, sig.Image, PredicateCycloneDX, []byte(cyclonedxPredicate), RegistryOptions{})
	if err != nil {
		t.Fatalf("AttestImage: %v", err)
	}
	checkStoredForm(t, host, digest, sig, att, referrers)

	ref := host + "/acme/app@" + digest
	// The real cosign CLI: no transparency log, a registry over plain HTTP.
	verify := []string{"verify", "--key", filepath.Join(keyDir, "cosign.pub"), "--insecure-ignore-tlog", "--allow-http-registry", ref}
	if out, err := cosign(t, keyDir, verify...); err != nil {
		t.Fatalf("cosign verify: %v\n%s", err, out)
	}
	verifyAtt := []string{"verify-attestation", "--type", "cyclonedx", "--key", filepath.Join(keyDir, "cosign.pub"), "--insecure-ignore-tlog", "--allow-http-registry", ref}
	out, err := cosign(t, keyDir, verifyAtt...)
	if err != nil {
		t.Fatalf("cosign verify-attestation: %v\n%s", err, out)
	}
	if pt := printedPredicateType(t, out); pt != PredicateCycloneDX {
		t.Errorf("cosign verify-attestation printed a statement of predicate type %q:\n%s", pt, out)
	}
	// The type is checked: no SPDX attestation is attached.
	verifyAtt[2] = "spdxjson"
	if out, err := cosign(t, keyDir, verifyAtt...); err == nil {
		t.Fatalf("cosign verify-attestation --type spdxjson passed:\n%s", out)
	}
	verifyAtt[2] = "cyclonedx"
	// Another key: both refused.
	verify[2] = filepath.Join(otherDir, "cosign.pub")
	if out, err := cosign(t, keyDir, verify...); err == nil {
		t.Fatalf("cosign verify with another key passed:\n%s", out)
	}
	verifyAtt[4] = filepath.Join(otherDir, "cosign.pub")
	if out, err := cosign(t, keyDir, verifyAtt...); err == nil {
		t.Fatalf("cosign verify-attestation with another key passed:\n%s", out)
	}

	// kensa's own reader, as kensa verify registry:REF does it.
	checks, attestations := kensaVerify(t, host+"/acme/app:1.0", digest, keyDir)
	if len(checks) != 2 {
		t.Fatalf("kensa: %d checks, want 2: %+v", len(checks), checks)
	}
	for _, c := range checks {
		if c.Status != result.Pass {
			t.Errorf("kensa: %+v", c)
		}
	}
	if len(attestations) != 1 || attestations[0].Statement == nil || attestations[0].Statement.PredicateType != PredicateCycloneDX {
		t.Fatalf("kensa: attestations %+v", attestations)
	}
	checks, _ = kensaVerify(t, host+"/acme/app:1.0", digest, otherDir)
	for _, c := range checks {
		if c.Status == result.Pass {
			t.Errorf("kensa with another key: %+v", c)
		}
	}
}

// printedPredicateType is the predicate type of the DSSE envelope cosign
// verify-attestation prints last.
func printedPredicateType(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var env struct {
		Payload []byte `json:"payload"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &env); err != nil {
		t.Fatalf("cosign verify-attestation output: %v\n%s", err, out)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(env.Payload, &st); err != nil {
		t.Fatal(err)
	}
	return st.PredicateType
}

// checkStoredForm reads the referrer manifests back and checks them against what cosign
// v3 writes (pkg/oci/remote/write.go WriteReferrer, WriteAttestationNewBundleFormat).
func checkStoredForm(t *testing.T, host, digest string, sig, att Attached, referrers bool) {
	t.Helper()
	d, err := name.NewDigest(host + "/acme/app@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("%d referrers, want 2", len(im.Manifests))
	}
	for _, a := range []Attached{sig, att} {
		ref, err := name.NewDigest(host + "/acme/app@" + a.Referrer)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			MediaType    string `json:"mediaType"`
			ArtifactType string `json:"artifactType"`
			Config       struct {
				MediaType string `json:"mediaType"`
			} `json:"config"`
			Layers []struct {
				MediaType string `json:"mediaType"`
			} `json:"layers"`
			Subject *struct {
				Digest string `json:"digest"`
			} `json:"subject"`
			Annotations map[string]string `json:"annotations"`
		}
		if err := json.Unmarshal(desc.Manifest, &m); err != nil {
			t.Fatal(err)
		}
		if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.ArtifactType != BundleMediaType ||
			m.Config.MediaType != "application/vnd.oci.empty.v1+json" || len(m.Layers) != 1 || m.Layers[0].MediaType != BundleMediaType ||
			m.Subject == nil || m.Subject.Digest != digest ||
			m.Annotations[AnnotationPredicateType] != a.PredicateType || m.Annotations[AnnotationBundleContent] != "dsse-envelope" ||
			m.Annotations["org.opencontainers.image.created"] == "" {
			t.Errorf("referrer manifest %s is not cosign's form:\n%s", a.Referrer, desc.Manifest)
		}
	}
	// Without the referrers API, the referrers tag holds the list.
	tag, err := name.NewTag(host + "/acme/app:" + strings.Replace(digest, ":", "-", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Get(tag)
	if referrers == (err == nil) {
		t.Errorf("referrers API %v, referrers tag read: %v", referrers, err)
	}
}
