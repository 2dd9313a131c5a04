package cli

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// certificateBomb is a Sigstore bundle whose certificate chain holds 983,040 empty
// certificates in 15 MiB: protobuf JSON decodes them all (about 185 MiB of allocations)
// before the chain's length can be refused.
func certificateBomb() string {
	certs := strings.TrimSuffix(strings.Repeat(`{"rawBytes":""},`, 15<<20/16), ",")
	return fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",`+
		`"verificationMaterial":{"x509CertificateChain":{"certificates":[%s]}},"messageSignature":{"messageDigest":`+
		`{"algorithm":"SHA2_256","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"signature":"AAAA"}}`, certs)
}

// TestG3SignatureDocumentParsedInWorker: a Sigstore bundle beside a file of the delivery
// is parsed in an analysis worker before kensa parses it. A bundle whose decoding takes more
// memory than worker-memory stops the worker; the signature check is an error naming the
// limit, kensa never decodes the document itself, and the run cannot pass. With the limit
// at its default the same bundle reaches kensa's own parser, which refuses the chain.
func TestG3SignatureDocumentParsedInWorker(t *testing.T) {
	bundle := certificateBomb()
	dir := writeDelivery(t, map[string][]byte{
		"app.bin":               []byte("payload\n"),
		"app.bin.sigstore.json": []byte(bundle),
	})
	checkOf := func(stdout string) (status, detail string) {
		var res struct {
			Checks []struct{ Name, Subject, Status, Detail string }
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("stdout is not the JSON result: %v\n%.2000s", err, stdout)
		}
		for _, c := range res.Checks {
			if c.Name == "signature/sigstore" && c.Subject == "app.bin" {
				return c.Status, c.Detail
			}
		}
		t.Fatalf("no signature/sigstore check of app.bin: %+v", res.Checks)
		return "", ""
	}
	code, stdout, stderr := kensa(t, "verify", dir, "--format", "json", "--limit", "worker-memory=96M")
	if code != ExitUndecided {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitUndecided, stderr)
	}
	status, detail := checkOf(stdout)
	if status != "error" || !strings.Contains(detail, "app.bin.sigstore.json was not read: check:sigstore-bundle: the analysis process was stopped") ||
		!strings.Contains(detail, "worker-memory limit of 96M") {
		t.Errorf("with worker-memory=96M: %s: %s", status, detail)
	}
	code, stdout, stderr = kensa(t, "verify", dir, "--format", "json")
	status, detail = checkOf(stdout)
	if code == ExitClean || status == "pass" || !strings.Contains(detail, "more than 10") {
		t.Errorf("with the default limits: exit %d, %s: %s; stderr %s", code, status, detail, stderr)
	}
}

// TestG3ImageAttachmentParsedInWorker: the same bundle attached to an image in its
// registry, as an OCI 1.1 referrer (listed under the referrers tag schema), is parsed in
// an analysis worker before kensa parses it: with worker-memory below what it takes, the
// image's signature check is an error naming the layer and the limit, nothing about the
// image is decided, and the run cannot pass.
func TestG3ImageAttachmentParsedInWorker(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/app:1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	bundleType := types.MediaType("application/vnd.dev.sigstore.bundle.v0.3+json")
	att, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: static.NewLayer([]byte(certificateBomb()), bundleType), MediaType: bundleType})
	if err != nil {
		t.Fatal(err)
	}
	size, err := img.Size()
	if err != nil {
		t.Fatal(err)
	}
	att = mutate.Subject(att, v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: digest, Size: size}).(v1.Image)
	attDigest, err := att.Digest()
	if err != nil {
		t.Fatal(err)
	}
	attSize, err := att.Size()
	if err != nil {
		t.Fatal(err)
	}
	referrers := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{
		Add: att, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: attDigest, Size: attSize, ArtifactType: string(bundleType)}})
	if err := remote.WriteIndex(tag.Context().Tag("sha256-"+digest.Hex), referrers); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := kensa(t, "verify", "registry:"+tag.String(), "--format", "json", "--limit", "worker-memory=96M")
	if code != ExitUndecided {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitUndecided, stderr)
	}
	var res struct {
		Checks []struct{ Name, Subject, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%.2000s", err, stdout)
	}
	var image []string
	for _, c := range res.Checks {
		if c.Name == "signature/cosign-image" {
			image = append(image, c.Status+": "+c.Detail)
		}
	}
	want := "error: referrer " + attDigest.String() + " layer 0 was not read: check:sigstore-image-layer: the analysis process was stopped"
	if len(image) != 1 || !strings.HasPrefix(image[0], want) || !strings.Contains(image[0], "worker-memory limit of 96M") {
		t.Errorf("the image's signature checks: %q\nwant one starting %q", image, want)
	}
}

// TestG3ChecksumManifestParsedInWorker: a checksum manifest of 16 MiB listing 228,218
// files takes about 160 MB of allocations to parse up to its 200,001st entry, where the
// parser refuses it. An analysis worker parses it first:
// with worker-memory below that, the worker is stopped, the manifest counts as unread (its
// check is an error naming the limit) and kensa never parses it itself.
func TestG3ChecksumManifestParsedInWorker(t *testing.T) {
	var sums strings.Builder
	for i := 0; sums.Len() < 16<<20-200; i++ {
		fmt.Fprintf(&sums, "%064x  f%d\n", i, i)
	}
	dir := writeDelivery(t, map[string][]byte{"app.bin": []byte("payload\n"), "SHA256SUMS": []byte(sums.String())})
	code, stdout, stderr := kensa(t, "verify", dir, "--format", "json", "--limit", "worker-memory=96M")
	if code != ExitUndecided {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitUndecided, stderr)
	}
	var res struct {
		Checks []struct{ Name, Subject, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%.2000s", err, stdout)
	}
	var got []string
	for _, c := range res.Checks {
		if c.Subject == "SHA256SUMS" {
			got = append(got, c.Name+" "+c.Status+": "+c.Detail)
		}
	}
	want := "checksum/manifest error: SHA256SUMS was not read: check:checksum-document: the analysis process was stopped"
	if len(got) == 0 || !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], "worker-memory limit of 96M") {
		t.Errorf("the manifest's checks: %q\nwant the first to start %q", got, want)
	}
}
