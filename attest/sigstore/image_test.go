package sigstore

import (
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// TestVerifyImageMalformed feeds hostile attachments: each fails closed, none passes,
// and an image with nothing but junk attached is reported as not signed.
func TestVerifyImageMalformed(t *testing.T) {
	trust, err := NewTrust(TrustOptions{})
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	layers := []ImageLayer{
		{MediaType: mediaDSSE, Data: []byte("not json")},
		{MediaType: mediaDSSE, Data: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`)},
		{MediaType: mediaDSSE, Data: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"!!","signatures":[{"sig":"AA=="}]}`)},
		{MediaType: mediaDSSE, Data: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`),
			Annotations: map[string]string{annRekorBundle: "{"}},
		{MediaType: mediaDSSE, Data: []byte(strings.Repeat("[", 10000))},
		{MediaType: mediaSimpleSigning, Data: []byte(`{"critical":{"type":"something else"}}`)},
		{MediaType: mediaSimpleSigning, Data: []byte(`{"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"` + digest + `"}}}`),
			Annotations: map[string]string{annSignature: "not base64"}},
		{MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Data: []byte(`{"mediaType":"x"}`)},
	}
	checks, att := VerifyImage("img", digest, []ImageAttachment{{Source: "tag", Ref: "t", Layers: layers}}, trust)
	if len(att) != 0 {
		t.Errorf("attestations from junk: %d", len(att))
	}
	if len(checks) != len(layers) {
		t.Errorf("%d checks for %d layers", len(checks), len(layers))
	}
	for _, c := range checks {
		if c.Status == result.Pass {
			t.Errorf("junk passed: %+v", c)
		}
	}
	checks, _ = VerifyImage("img", digest, nil, trust)
	if len(checks) != 1 || checks[0].Status != result.Fail || !strings.Contains(checks[0].Detail, "no cosign signature") {
		t.Errorf("unsigned image: %+v", checks)
	}
	checks, _ = VerifyImage("img", "md5:00", nil, trust)
	if len(checks) != 1 || checks[0].Status != result.Erred {
		t.Errorf("a digest that is not sha256: %+v", checks)
	}
}
