package sigstore

import (
	"crypto/x509"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// recoverTo turns a panic in a library below into an error of the call.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = errorf("internal error while verifying (malformed input?): %v", r)
	}
}

// checkJSONDepth refuses JSON nested deeper than MaxJSONDepth, before any decoder sees it.
func checkJSONDepth(data []byte) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxJSONDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", MaxJSONDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// strictProtoJSON decodes protobuf JSON, refusing unknown and duplicate fields.
func strictProtoJSON(data []byte, m proto.Message) error {
	return protojson.UnmarshalOptions{}.Unmarshal(data, m)
}

func parseCert(der []byte) (*x509.Certificate, error) {
	if len(der) == 0 {
		return nil, errors.New("empty certificate")
	}
	if len(der) > 64<<10 {
		return nil, errors.New("certificate larger than 64 KiB")
	}
	return x509.ParseCertificate(der)
}
