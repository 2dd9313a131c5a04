package sigstore

import (
	"fmt"
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
