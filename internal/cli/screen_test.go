package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestG3SignatureDocumentParsedInWorker: a Sigstore bundle beside a file of the delivery
// is parsed in an analysis worker before kensa parses it. A bundle whose decoding takes more
// memory than worker-memory stops the worker; the signature check is an error naming the
// limit, kensa never decodes the document itself, and the run cannot pass. With the limit
// at its default the same bundle reaches kensa's own parser, which refuses the chain.
func TestG3SignatureDocumentParsedInWorker(t *testing.T) {
	// A certificate chain of 983,040 empty certificates in 15 MiB: protobuf JSON decodes
	// them all (about 185 MiB of allocations) before the chain's length can be refused.
	certs := strings.TrimSuffix(strings.Repeat(`{"rawBytes":""},`, 15<<20/16), ",")
	bundle := fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",`+
		`"verificationMaterial":{"x509CertificateChain":{"certificates":[%s]}},"messageSignature":{"messageDigest":`+
		`{"algorithm":"SHA2_256","digest":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},"signature":"AAAA"}}`, certs)
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
