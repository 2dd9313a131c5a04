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
