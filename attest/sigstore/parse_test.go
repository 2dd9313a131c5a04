package sigstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseAttachment parses real GitHub attestations (one Sigstore bundle per line, DSSE
// with an in-toto statement) without trust material, and refuses what VerifyAttachment
// would refuse before verifying.
func TestParseAttachment(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "github-attestations", "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ParseAttachment(KindJSONL, data); err != nil {
		t.Fatalf("a real attestation: %v", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	if err := ParseAttachment(KindBundle, []byte(first)); err != nil {
		t.Fatalf("one bundle of it: %v", err)
	}
	for _, tc := range []struct{ kind, data, want string }{
		{KindBundle, `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"`, "not a valid Sigstore bundle"},
		{KindBundle, strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "bundle: "},
		{KindJSONL, first + "\n{}\n", "line 2:"},
		{"certificate", "x", "unknown attachment kind"},
	} {
		if err := ParseAttachment(tc.kind, []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %.40q: %v, want an error with %q", tc.kind, tc.data, err, tc.want)
		}
	}
}

// TestParseImageLayer parses the layers a registry attaches to an image as VerifyImage
// does, without trust material: a real bundle passes, and what VerifyImage would refuse
// before verifying is refused.
func TestParseImageLayer(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "github-attestations", "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	payload := `{"critical":{"type":"cosign container image signature"}}`
	for _, l := range []ImageLayer{
		{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Data: []byte(first)},
		{MediaType: mediaSimpleSigning, Data: []byte(payload), Annotations: map[string]string{annSignature: "AAAA"}},
		{MediaType: "application/vnd.example.unknown", Data: []byte("not read")},
	} {
		if err := ParseImageLayer(l); err != nil {
			t.Errorf("%s: %v", l.MediaType, err)
		}
	}
	for _, tc := range []struct {
		l    ImageLayer
		want string
	}{
		{ImageLayer{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Data: []byte(`{"mediaType":`)}, "not a valid Sigstore bundle"},
		{ImageLayer{MediaType: mediaDSSE, Data: []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100))}, "attached layer: "},
		{ImageLayer{MediaType: mediaDSSE, Data: []byte(`{"payload":`)}, "attached layer is not JSON"},
		{ImageLayer{MediaType: mediaSimpleSigning, Data: []byte(payload), Annotations: map[string]string{annCertificate: "not a certificate"}}, "certificate: "},
		{ImageLayer{MediaType: mediaDSSE, Data: []byte(`{}`), Annotations: map[string]string{annRekorBundle: `{"Payload":{"body":7}}`}}, "rekorBundle body is not a string"},
		{ImageLayer{MediaType: mediaDSSE, Data: make([]byte, MaxBundleSize+1)}, "larger than"},
	} {
		if err := ParseImageLayer(tc.l); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %.40q: %v, want an error with %q", tc.l.MediaType, tc.l.Data, err, tc.want)
		}
	}
}
