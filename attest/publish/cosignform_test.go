package publish

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// shape is the structure of a JSON document: its object keys and fixed values, with the
// values that differ between two signatures (digests, sizes, times, signatures) elided.
func shape(t *testing.T, data []byte, keep map[string]bool) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, e := range x {
				out[k] = walk(path+"."+k, e)
			}
			return out
		case []any:
			var out []any
			for _, e := range x {
				out = append(out, walk(path+"[]", e))
			}
			return out
		default:
			if keep[path] {
				return x
			}
			return "…"
		}
	}
	return walk("", v)
}

// referrerOf reads the one referrer manifest of digest whose predicate-type annotation
// is predicateType, and its bundle layer.
func referrerOf(t *testing.T, repo name.Repository, digest, predicateType string) (manifest, bundle []byte) {
	t.Helper()
	idx, err := remote.Referrers(repo.Digest(digest))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		desc, err := remote.Get(repo.Digest(d.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Layers []struct {
				Digest string `json:"digest"`
			} `json:"layers"`
			Annotations map[string]string `json:"annotations"`
		}
		if err := json.Unmarshal(desc.Manifest, &m); err != nil {
			t.Fatal(err)
		}
		if m.Annotations[AnnotationPredicateType] != predicateType || len(m.Layers) != 1 {
			continue
		}
		l, err := remote.Layer(repo.Digest(m.Layers[0].Digest))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed() // the blob as stored
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		return desc.Manifest, b
	}
	t.Fatalf("no referrer of %s with predicate type %s", digest, predicateType)
	return nil, nil
}

// statementShape is the shape of the in-toto statement in a DSSE bundle.
func statementShape(t *testing.T, bundle []byte, keep map[string]bool) any {
	t.Helper()
	var b struct {
		DSSEEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil || b.DSSEEnvelope.PayloadType != InTotoPayloadType {
		t.Fatalf("bundle is not an in-toto DSSE bundle: %v\n%s", err, bundle)
	}
	return shape(t, p, keep)
}

// TestSameFormAsCosign signs one image with the cosign CLI and another with SignImage and
// AttestImage, and compares what each stored: the referrer manifests, the bundles and
// the statements have the same structure and fixed values.
func TestSameFormAsCosign(t *testing.T) {
	host := startRegistry(t, true)
	d1 := pushImage(t, host, "acme/app:1")
	d2 := pushImage(t, host, "acme/app:2")
	dir, key := keyPair(t)
	repo, _ := name.NewRepository(host + "/acme/app")
	if err := os.WriteFile(filepath.Join(dir, "sbom.json"), []byte(cyclonedxPredicate), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sign", "--key", "cosign.key", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "-y", repo.Digest(d1).String()},
		{"attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", "sbom.json", "--tlog-upload=false", "--use-signing-config=false", "--allow-http-registry", "-y", repo.Digest(d1).String()},
	} {
		if out, err := cosign(t, dir, args...); err != nil {
			t.Fatalf("cosign %s: %v\n%s", args[0], err, out)
		}
	}
	s := Signer{Key: key}
	if _, err := SignImage(context.Background(), s, host+"/acme/app:2", RegistryOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := AttestImage(context.Background(), s, host+"/acme/app:2", PredicateCycloneDX, []byte(cyclonedxPredicate), RegistryOptions{}); err != nil {
		t.Fatal(err)
	}
	manifestKeep := map[string]bool{".schemaVersion": true, ".mediaType": true, ".artifactType": true, ".config.mediaType": true,
		".config.artifactType": true, ".layers[].mediaType": true, ".subject.mediaType": true,
		".annotations.dev.sigstore.bundle.content": true, ".annotations.dev.sigstore.bundle.predicateType": true}
	bundleKeep := map[string]bool{".mediaType": true, ".dsseEnvelope.payloadType": true}
	statementKeep := map[string]bool{"._type": true, ".predicateType": true, ".subject[].name": true}
	for _, pt := range []string{PredicateCosignSign, PredicateCycloneDX} {
		if pt == PredicateCycloneDX {
			// cosign attest still writes in-toto Statement v0.1; kensa writes v1, which
			// cosign verify-attestation accepts (TestImageRoundTrip).
			statementKeep = map[string]bool{".predicateType": true, ".subject[].name": true}
		}
		cm, cb := referrerOf(t, repo, d1, pt)
		km, kb := referrerOf(t, repo, d2, pt)
		for _, c := range []struct {
			what         string
			cosign, ours any
		}{
			{"referrer manifest", shape(t, cm, manifestKeep), shape(t, km, manifestKeep)},
			{"bundle", shape(t, cb, bundleKeep), shape(t, kb, bundleKeep)},
			{"statement", statementShape(t, cb, statementKeep), statementShape(t, kb, statementKeep)},
		} {
			if !reflect.DeepEqual(c.cosign, c.ours) {
				a, _ := json.MarshalIndent(c.cosign, "", " ")
				b, _ := json.MarshalIndent(c.ours, "", " ")
				t.Errorf("%s %s differs from cosign's:\ncosign: %s\nours:   %s", pt, c.what, a, b)
			}
		}
	}
}
