package provenance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what ParseEnvelopes accepts.
const (
	// MaxEnvelopeInput bounds the bytes ParseEnvelopes reads (base64 makes a payload of
	// MaxStatementSize about 171 MiB).
	MaxEnvelopeInput = 256 << 20
	// MaxEnvelopes bounds the envelopes or bundles in one input (cosign's cap on
	// attestations per subject, CVE-2023-46737).
	MaxEnvelopes = 100
	// MaxSignatures bounds the signatures of a bare DSSE envelope. An envelope inside a
	// Sigstore bundle must have exactly one.
	MaxSignatures = 16
)

// Envelope is one DSSE envelope read by ParseEnvelopes, bare or inside a Sigstore bundle.
// Nothing in it is verified: the signature is checked by package attest/sigstore (give it
// Raw), and only the statement it returns should be trusted.
type Envelope struct {
	// MediaType is the Sigstore bundle's mediaType, or "" for a bare DSSE envelope.
	MediaType string
	// PayloadType is the DSSE payloadType (PayloadTypeInToto for in-toto statements).
	PayloadType string
	// Payload is the decoded payload: unverified bytes.
	Payload []byte
	// Signatures counts the envelope's signatures.
	Signatures int
	// Raw is the JSON value (bundle or envelope) as it was read.
	Raw []byte
}

// ParseEnvelopes reads DSSE envelopes or Sigstore bundles holding a DSSE envelope: one
// per line as in .intoto.jsonl files, or any sequence of JSON values separated by white
// space (so a single pretty-printed *.sigstore.json works too; so does the DSSE layer of
// a cosign image attestation). Each value is decoded strictly (see ParseStatement); a
// bundle must carry exactly one signature, a bare envelope between 1 and MaxSignatures.
// Any malformed entry makes the whole input an error. The payloads are NOT verified: this
// only unpacks them.
func ParseEnvelopes(r io.Reader) (envs []Envelope, err error) {
	defer func() {
		if p := recover(); p != nil {
			envs, err = nil, fmt.Errorf("attestation envelopes: internal error while parsing: %v", p)
		}
	}()
	data, err := io.ReadAll(io.LimitReader(r, MaxEnvelopeInput+1))
	if err != nil {
		return nil, fmt.Errorf("attestation envelopes: %w", err)
	}
	if len(data) > MaxEnvelopeInput {
		return nil, fmt.Errorf("attestation envelopes: input is larger than the limit of %d bytes", MaxEnvelopeInput)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("attestation envelopes: entry %d: not valid JSON: %w", i, err)
		}
		if i > MaxEnvelopes {
			return nil, fmt.Errorf("attestation envelopes: more than %d entries", MaxEnvelopes)
		}
		env, err := parseEnvelopeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("attestation envelopes: entry %d: %w", i, err)
		}
		envs = append(envs, env)
	}
	if len(envs) == 0 {
		return nil, errors.New("attestation envelopes: no envelope or bundle in the input")
	}
	return envs, nil
}

func parseEnvelopeValue(raw []byte) (Envelope, error) {
	v, err := decodeStrict(raw)
	if err != nil {
		return Envelope{}, fmt.Errorf("not a valid JSON document: %w", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return Envelope{}, fmt.Errorf("top-level value is a %s, not an object", kind(v))
	}
	env := Envelope{Raw: append([]byte(nil), raw...)}
	dsse := top
	where := "envelope"
	if _, isBundle := top["mediaType"]; isBundle || top["dsseEnvelope"] != nil || top["messageSignature"] != nil {
		if env.MediaType, err = optString(top, "mediaType", "bundle"); err != nil {
			return Envelope{}, err
		}
		if !strings.HasPrefix(env.MediaType, "application/vnd.dev.sigstore.bundle") {
			return Envelope{}, fmt.Errorf("bundle mediaType %s is not a Sigstore bundle's", quote(env.MediaType))
		}
		if dsse, err = optObject(top, "dsseEnvelope", "bundle"); err != nil {
			return Envelope{}, err
		}
		if dsse == nil {
			if top["messageSignature"] != nil {
				return Envelope{}, errors.New("the Sigstore bundle signs a message, not an attestation: it holds no DSSE envelope")
			}
			return Envelope{}, errors.New("the Sigstore bundle has no dsseEnvelope")
		}
		if _, also := top["messageSignature"]; also {
			return Envelope{}, errors.New("the Sigstore bundle has both a dsseEnvelope and a messageSignature")
		}
		where = "bundle.dsseEnvelope"
	}
	if env.PayloadType, err = optString(dsse, "payloadType", where); err != nil {
		return Envelope{}, err
	}
	if env.PayloadType == "" {
		return Envelope{}, fmt.Errorf("%s.payloadType is missing or empty: this is neither a DSSE envelope nor a Sigstore bundle", where)
	}
	payload, err := optString(dsse, "payload", where)
	if err != nil {
		return Envelope{}, err
	}
	if payload == "" {
		return Envelope{}, fmt.Errorf("%s.payload is missing or empty", where)
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > MaxStatementSize {
		return Envelope{}, fmt.Errorf("%s.payload is larger than the limit of %d bytes", where, MaxStatementSize)
	}
	if env.Payload, err = decodeBase64(payload); err != nil {
		return Envelope{}, fmt.Errorf("%s.payload is not base64: %w", where, err)
	}
	sigs, err := optArray(dsse, "signatures", where)
	if err != nil {
		return Envelope{}, err
	}
	for i, s := range sigs {
		obj, ok := s.(map[string]any)
		if !ok {
			return Envelope{}, fmt.Errorf("%s.signatures[%d] is a %s, not an object", where, i, kind(s))
		}
		sig, err := optString(obj, "sig", fmt.Sprintf("%s.signatures[%d]", where, i))
		if err != nil {
			return Envelope{}, err
		}
		if sig == "" {
			return Envelope{}, fmt.Errorf("%s.signatures[%d].sig is missing or empty", where, i)
		}
		if _, err := optString(obj, "keyid", fmt.Sprintf("%s.signatures[%d]", where, i)); err != nil {
			return Envelope{}, err
		}
	}
	env.Signatures = len(sigs)
	switch {
	case env.MediaType != "" && env.Signatures != 1:
		return Envelope{}, fmt.Errorf("the DSSE envelope in a Sigstore bundle must have exactly one signature, this one has %d", env.Signatures)
	case env.Signatures == 0:
		return Envelope{}, errors.New("the DSSE envelope has no signature")
	case env.Signatures > MaxSignatures:
		return Envelope{}, fmt.Errorf("the DSSE envelope has %d signatures, more than the limit of %d", env.Signatures, MaxSignatures)
	}
	return env, nil
}

// decodeBase64 accepts standard or URL-safe base64 with padding, as DSSE allows.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	if b, err2 := base64.URLEncoding.DecodeString(s); err2 == nil {
		return b, nil
	}
	return nil, err
}

// StatementFromEnvelope parses the in-toto statement carried by env. The payloadType must
// be PayloadTypeInToto exactly. Like env itself, the result is unverified unless env's
// signature was verified.
func StatementFromEnvelope(env Envelope) (*Statement, error) {
	if env.PayloadType != PayloadTypeInToto {
		return nil, fmt.Errorf("in-toto statement: DSSE payloadType is %s, want %q", quote(env.PayloadType), PayloadTypeInToto)
	}
	return ParseStatement(env.Payload)
}
