package sigstore

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ParseAttachment parses a signature document of the kind Discover gives (KindBundle,
// KindJSONL or KindSignature) the way VerifyAttachment does before it verifies anything:
// every Sigstore bundle it holds, with its certificates, transparency-log entries and
// DSSE envelope, or cosign's old bundle. It needs no trust material and checks no
// signature. kensa runs it in an analysis worker first, so that a document built to
// exhaust memory or hang ends a worker, not the verifier.
func ParseAttachment(kind string, data []byte) (err error) {
	defer recoverTo(&err)
	parseOne := func(b []byte) error {
		pb, err := parseBundle(b)
		if err != nil {
			return err
		}
		if _, err := pb.VerificationContent(); err != nil {
			return err
		}
		if _, err := pb.TlogEntries(); err != nil {
			return err
		}
		if _, err := pb.SignatureContent(); err != nil {
			return err
		}
		if env, err := pb.Envelope(); err == nil && env != nil {
			if _, err := env.Statement(); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case kind == KindJSONL:
		lines, err := SplitJSONL(data)
		if err != nil {
			return err
		}
		for i, line := range lines {
			if err := parseOne(line); err != nil {
				return fmt.Errorf("line %d: %w", i+1, err)
			}
		}
		return nil
	case kind == KindBundle && IsLegacyBundle(data):
		_, err := parseLegacyBundle(data)
		return err
	case kind == KindBundle:
		return parseOne(data)
	case kind == KindSignature:
		return nil // base64 text of at most 64 KiB, decoded in place
	}
	return fmt.Errorf("unknown attachment kind %q", kind)
}

// ParseImageLayer parses one layer attached to an image the way VerifyImage does before it
// verifies anything: a Sigstore bundle as ParseAttachment does, and cosign's older
// simple-signing payload or DSSE attestation with the certificate and transparency-log
// bundle of its annotations. It needs no trust material and checks no signature; kensa
// runs it in an analysis worker first, as it does for the signature documents of files.
func ParseImageLayer(l ImageLayer) (err error) {
	defer recoverTo(&err)
	if len(l.Data) > MaxBundleSize {
		return errorf("attached layer larger than %d bytes; not read", MaxBundleSize)
	}
	switch {
	case strings.HasPrefix(l.MediaType, "application/vnd.dev.sigstore.bundle"):
		return ParseAttachment(KindBundle, l.Data)
	case l.MediaType == mediaSimpleSigning || l.MediaType == mediaDSSE:
		if err := checkJSONDepth(l.Data); err != nil {
			return failf("attached layer: %v", err)
		}
		var payload any
		if err := json.Unmarshal(l.Data, &payload); err != nil {
			return failf("attached layer is not JSON: %v", err)
		}
		if c := l.Annotations[annCertificate]; c != "" {
			der, err := decodeCert([]byte(c))
			if err == nil {
				_, err = parseCert(der)
			}
			if err != nil {
				return failf("certificate: %v", err)
			}
		}
		if rb := l.Annotations[annRekorBundle]; rb != "" {
			var r rekorBundle
			if err := json.Unmarshal([]byte(rb), &r); err != nil {
				return failf("transparency-log bundle: %v", err)
			}
			if _, err := legacyTlogEntry(&r); err != nil {
				return err
			}
		}
	}
	return nil
}
