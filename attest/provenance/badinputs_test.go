package provenance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// Hostile inputs of series J (JSON documents) and S (DSSE / in-toto) of
// reference/bad-inputs.md that concern statements. Signature-level cases (S1, S3, S4,
// S6, S7) belong to attest/sigstore.

func stmt(subjects, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"_type":%q,"subject":%s,"predicateType":%q,"predicate":{}%s}`, StatementV1, subjects, "https://example.com/p/v1", extra)
}

func subj(name string, digest string) string {
	return fmt.Sprintf(`[{"name":%q,"digest":%s}]`, name, digest)
}

func TestParseStatementRejects(t *testing.T) {
	good := subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256))
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	for _, c := range []struct{ id, in, want string }{
		{"J1 depth 10001", stmt(good, `"x":`+deep), "deeper than"},
		{"J1 depth 129", stmt(good, `"x":`+strings.Repeat("[", 128)+strings.Repeat("]", 128)), "deeper than"},
		{"J2 duplicate _type", `{"_type":"` + StatementV1 + `","_type":"` + StatementV01 + `","subject":` + good + `,"predicateType":"p"}`, "duplicate key"},
		{"J2 case variant predicateType", stmt(good, `"PredicateType":"https://slsa.dev/provenance/v1"`), "differ only in case"},
		{"J2 Kelvin-sign variant", `{"_type":"` + StatementV1 + `","subject":[{"name":"a","digest":{"sha256":"` + appSHA256 + `"}}],"predicateType":"p","predicate":{"\u212a":1,"k":2}}`, "differ only in case"},
		{"J2 case variant alone is not the field", `{"_type":"` + StatementV1 + `","subject":` + good + `,"PredicateType":"p"}`, "predicateType is missing"},
		{"J2 duplicate digest algorithm", stmt(subj("app", fmt.Sprintf(`{"sha256":%q,"sha256":%q}`, appSHA256, toolSHA256)), ""), "duplicate key"},
		{"J3 trailing data", stmt(good, "") + ` {}`, "trailing data"},
		{"J3 trailing garbage", stmt(good, "") + `x`, ""},
		{"J6 number as predicateType", `{"_type":"` + StatementV1 + `","subject":` + good + `,"predicateType":1e999}`, "not a string"},
		{"invalid UTF-8", strings.Replace(stmt(subj("appX", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), ""), "appX", "app\xff", 1), "UTF-8"},
		{"S10 not JSON", "this is not JSON", "not a valid JSON"},
		{"S10 empty", "", "empty"},
		{"S10 wrong _type", strings.Replace(stmt(good, ""), StatementV1, "https://in-toto.io/Statement/v2", 1), "_type"},
		{"S10 no _type", `{"subject":` + good + `,"predicateType":"p"}`, "_type"},
		{"S10 array", `[` + stmt(good, "") + `]`, "not an object"},
		{"S8 uppercase hex", stmt(subj("app", fmt.Sprintf(`{"sha256":%q}`, strings.ToUpper(appSHA256))), ""), "lowercase hex"},
		{"S8 short sha256", stmt(subj("app", `{"sha256":"abcd"}`), ""), "lowercase hex"},
		{"S8 short sha512", stmt(subj("app", `{"sha512":"abcd"}`), ""), "lowercase hex"},
		{"S12 1025 subjects", stmt("["+strings.TrimSuffix(strings.Repeat(`{"name":"a","digest":{"sha256":"`+appSHA256+`"}},`, 1025), ",")+"]", ""), "more than the limit"},
		{"S12 33 digests", stmt(subj("app", "{"+strings.TrimSuffix(strings.Repeat(`"x%d":"y",`, 33), ",")+"}"), ""), ""},
		{"no subject", stmt(`[]`, ""), "no subject"},
		{"subject without digest", stmt(`[{"name":"app"}]`, ""), "no digest"},
		{"type confusion subject object", stmt(`{"name":"app"}`, ""), "not an array"},
		{"type confusion subject entry", stmt(`["app"]`, ""), "not an object"},
		{"type confusion digest value", stmt(subj("app", `{"sha256":1}`), ""), "not a string"},
		{"type confusion digest set", stmt(subj("app", `["`+appSHA256+`"]`), ""), "not an object"},
		{"type confusion name", stmt(`[{"name":1,"digest":{"sha256":"`+appSHA256+`"}}]`, ""), "not a string"},
		{"type confusion predicate", `{"_type":"` + StatementV1 + `","subject":` + good + `,"predicateType":"p","predicate":[]}`, "not an object"},
		{"SLSA v1 builder id number", `{"_type":"` + StatementV1 + `","subject":` + good + `,"predicateType":"` + SLSAProvenance1 + `","predicate":{"runDetails":{"builder":{"id":7}}}}`, "not a string"},
		{"SLSA v1 no predicate", `{"_type":"` + StatementV1 + `","subject":` + good + `,"predicateType":"` + SLSAProvenance1 + `"}`, "no predicate"},
		{"SLSA v0.2 materials object", `{"_type":"` + StatementV01 + `","subject":` + good + `,"predicateType":"` + SLSAProvenance02 + `","predicate":{"builder":{"id":"b"},"materials":{}}}`, "not an array"},
		{"SLSA v0.2 configSource uri array", `{"_type":"` + StatementV01 + `","subject":` + good + `,"predicateType":"` + SLSAProvenance02 + `","predicate":{"invocation":{"configSource":{"uri":["x"]}}}}`, "not a string"},
		{"SLSA v1 resolvedDependencies digest uppercase", `{"_type":"` + StatementV1 + `","subject":` + good + `,"predicateType":"` + SLSAProvenance1 + `","predicate":{"buildDefinition":{"resolvedDependencies":[{"uri":"git+https://x/y","digest":{"gitCommit":"` + strings.ToUpper(acmeCommit) + `"}}]}}}`, "lowercase hex"},
	} {
		t.Run(c.id, func(t *testing.T) {
			in := c.in
			if strings.HasPrefix(c.id, "S12 33") {
				parts := make([]any, 33)
				for i := range parts {
					parts[i] = i
				}
				in = fmt.Sprintf(in, parts...)
			}
			st, err := ParseStatement([]byte(in))
			if err == nil {
				t.Fatalf("accepted: %+v", st)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panicked: %v", err)
			}
		})
	}
}

func TestJ5ParseStatementSizeLimit(t *testing.T) {
	// J5: a document over the cap is refused before it is parsed.
	big := make([]byte, MaxStatementSize+1)
	if _, err := ParseStatement(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseStatementAccepts(t *testing.T) {
	// Unknown algorithms are kept but do not count; unknown fields are ignored (in-toto
	// consumers must ignore them); huge numbers where no number is read are fine.
	in := stmt(subj("app", fmt.Sprintf(`{"sha256":%q,"blake3":"ZZZ not hex"}`, appSHA256)), `"futureField":{"n":1e999},"predicate2":null`)
	st, err := ParseStatement([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if st.Subjects[0].Digest["blake3"] != "ZZZ not hex" {
		t.Fatalf("%+v", st.Subjects)
	}
	// In-toto v0.1 is accepted as well.
	if _, err := ParseStatement([]byte(strings.Replace(in, StatementV1, StatementV01, 1))); err != nil {
		t.Fatal(err)
	}
	// Exactly MaxDepth levels are allowed.
	in = stmt(subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), `"x":`+strings.Repeat("[", MaxDepth-1)+strings.Repeat("]", MaxDepth-1))
	if _, err := ParseStatement([]byte(in)); err != nil {
		t.Fatal(err)
	}
}

func checkSubjectStatus(t *testing.T, in string, art Subject) result.Check {
	t.Helper()
	st, err := ParseStatement([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Check(st, art, Expect{PredicateTypes: []string{"https://example.com/p/v1"}}, "") {
		if c.Name == CheckSubject {
			return c
		}
	}
	t.Fatal("no subject check")
	return result.Check{}
}

func TestSubjectMatching(t *testing.T) {
	s, err := SubjectOf("app", bytes.NewReader(appBytes))
	if err != nil {
		t.Fatal(err)
	}
	otherSHA512 := strings.Repeat("ab", 64)
	md5 := strings.Repeat("0", 32)
	P, F := result.Pass, result.Fail
	for _, c := range []struct {
		id, subjects string
		art          Subject
		want         string
	}{
		{"digest matches", subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), s, P},
		{"S8 digest mismatch", subj("app", fmt.Sprintf(`{"sha256":%q}`, toolSHA256)), s, F},
		{"S8 sha256 mismatches, md5 would match", subj("app", fmt.Sprintf(`{"sha256":%q,"md5":%q}`, toolSHA256, md5)), s, F},
		{"S8 only weak or unknown algorithms", subj("app", fmt.Sprintf(`{"md5":%q,"sha1":%q}`, md5, acmeCommit)), s, F},
		{"S8 sha256 matches, sha512 does not", subj("app", fmt.Sprintf(`{"sha256":%q,"sha512":%q}`, appSHA256, otherSHA512)), s, F},
		{"S8 sha512 matches, sha256 does not", subj("app", fmt.Sprintf(`{"sha256":%q,"sha512":%q}`, toolSHA256, s.SHA512)), s, F},
		{"S8 both match", subj("app", fmt.Sprintf(`{"sha256":%q,"sha512":%q}`, appSHA256, s.SHA512)), s, P},
		{"S8 sha512 only", subj("app", fmt.Sprintf(`{"sha512":%q}`, s.SHA512)), s, P},
		{"S8 sha512 listed but not known for the artifact", subj("app", fmt.Sprintf(`{"sha256":%q,"sha512":%q}`, appSHA256, s.SHA512)),
			Subject{Name: "app", SHA256: appSHA256}, F},
		{"S8 extra subjects", fmt.Sprintf(`[{"name":"tool","digest":{"sha256":%q}},{"name":"app","digest":{"sha256":%q}}]`, toolSHA256, appSHA256), s, P},
		{"S8 artifact digest in uppercase", subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{Name: "app", SHA256: strings.ToUpper(appSHA256)}, P},
		{"S11 dir/../ in the subject name", subj("dir/../app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{Name: "dist/app", SHA256: appSHA256}, P},
		{"S11 path in the subject name", subj("./dist/app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{Name: "app", SHA256: appSHA256}, P},
		{"S13 subject name tampered", subj("other-package", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), s, F},
		{"S13 name ../app is not evil/app", subj("evil/../../app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{Name: "app", SHA256: appSHA256}, P},
		{"image matched by digest alone", subj("ghcr.io/acme/app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)),
			Subject{Name: "registry:ghcr.io/acme/app:v1.4.2", SHA256: appSHA256, DigestOnly: true}, P},
		{"image by digest, other digest", subj("ghcr.io/acme/app", fmt.Sprintf(`{"sha256":%q}`, toolSHA256)),
			Subject{Name: "registry:ghcr.io/acme/app:v1.4.2", SHA256: appSHA256, DigestOnly: true}, F},
		{"no artifact name: digest alone", subj("ghcr.io/acme/app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{SHA256: appSHA256}, P},
		{"artifact digest malformed", subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), Subject{Name: "app", SHA256: "sha256:" + appSHA256}, result.Erred},
	} {
		t.Run(c.id, func(t *testing.T) {
			got := checkSubjectStatus(t, stmt(c.subjects, ""), c.art)
			if got.Status != c.want {
				t.Fatalf("%s %s: %s, want %s", got.Name, got.Status, got.Detail, c.want)
			}
			t.Logf("%s: %s", got.Status, got.Detail)
		})
	}
}

func TestParseEnvelopesRejects(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString([]byte(stmt(subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), "")))
	sig := `{"keyid":"","sig":"MEUCIQD"}`
	env := func(sigs string) string {
		return fmt.Sprintf(`{"payloadType":%q,"payload":%q,"signatures":[%s]}`, PayloadTypeInToto, payload, sigs)
	}
	bundle := func(sigs string) string {
		return fmt.Sprintf(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":%s}`, env(sigs))
	}
	for _, c := range []struct{ id, in, want string }{
		{"J2 payloadType case variant", fmt.Sprintf(`{"payloadType":"a","PayloadType":"b","payload":%q,"signatures":[%s]}`, payload, sig), "differ only in case"},
		{"J2 duplicate payload", fmt.Sprintf(`{"payloadType":"a","payload":%q,"payload":%q,"signatures":[%s]}`, payload, payload, sig), "duplicate key"},
		{"J2 duplicate dsseEnvelope", strings.TrimSuffix(bundle(sig), "}") + `,"dsseEnvelope":` + env(sig) + `}`, "duplicate key"},
		{"J3 trailing garbage", env(sig) + "\n" + "garbage", "entry 2"},
		{"J1 deep nesting", strings.Repeat("[", 10001), ""},
		{"S5 bundle with no signature", bundle(""), "exactly one signature"},
		{"S5 bundle with two signatures", bundle(sig + "," + sig), "exactly one signature"},
		{"S5 envelope with no signature", env(""), "no signature"},
		{"S5 envelope with 17 signatures", env(strings.TrimSuffix(strings.Repeat(sig+",", 17), ",")), "limit"},
		{"empty sig", env(`{"sig":""}`), "sig is missing"},
		{"sig not a string", env(`{"sig":1}`), "not a string"},
		{"signatures not an array", fmt.Sprintf(`{"payloadType":"a","payload":%q,"signatures":{}}`, payload), "not an array"},
		{"payload not base64", fmt.Sprintf(`{"payloadType":"a","payload":"!!!","signatures":[%s]}`, sig), "base64"},
		{"payload missing", fmt.Sprintf(`{"payloadType":"a","signatures":[%s]}`, sig), "payload is missing"},
		{"not an envelope", `{"hello":"world"}`, "neither a DSSE envelope nor a Sigstore bundle"},
		{"message-signature bundle", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{"signature":"x"}}`, "signs a message"},
		{"bundle with both", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{},"dsseEnvelope":` + env(sig) + `}`, "both"},
		{"bundle wrong media type", `{"mediaType":"application/json","dsseEnvelope":` + env(sig) + `}`, "mediaType"},
		{"bundle dsseEnvelope string", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":"x"}`, "not an object"},
		{"empty input", "  \n", "no envelope"},
		{"top-level array", `[` + env(sig) + `]`, "not an object"},
		{"too many entries", strings.Repeat(env(sig)+"\n", MaxEnvelopes+1), "more than"},
	} {
		t.Run(c.id, func(t *testing.T) {
			envs, err := ParseEnvelopes(strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("accepted: %d envelopes", len(envs))
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "internal error") {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
	// Exactly MaxEnvelopes entries are fine, and so is URL-safe base64 (DSSE allows it).
	envs, err := ParseEnvelopes(strings.NewReader(strings.Repeat(env(sig)+"\n", MaxEnvelopes)))
	if err != nil || len(envs) != MaxEnvelopes {
		t.Fatalf("%d envelopes, %v", len(envs), err)
	}
	urlSafe := fmt.Sprintf(`{"payloadType":"t","payload":%q,"signatures":[%s]}`, base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}), sig)
	if envs, err := ParseEnvelopes(strings.NewReader(urlSafe)); err != nil || !bytes.Equal(envs[0].Payload, []byte{0xfb, 0xff}) {
		t.Fatalf("URL-safe base64: %v", err)
	}
}

func TestG7QuoteBounds(t *testing.T) {
	long := strings.Repeat("é", 300) + "\x1b[31m"
	q := quote(long)
	if len(q) > 220 || !strings.HasSuffix(q, "…") || strings.ContainsRune(q, 0x1b) {
		t.Fatalf("%d bytes: %s", len(q), q)
	}
	if quote("a\nb") != `"a\nb"` {
		t.Fatal(quote("a\nb"))
	}
}

func TestS2StatementFromEnvelopePayloadType(t *testing.T) {
	// S2: the payloadType is part of what is signed; anything but the in-toto type is
	// not a statement, whatever the payload holds.
	payload := []byte(stmt(subj("app", fmt.Sprintf(`{"sha256":%q}`, appSHA256)), ""))
	for _, pt := range []string{"application/json", "application/vnd.in-toto+json ", "APPLICATION/VND.IN-TOTO+JSON", ""} {
		if _, err := StatementFromEnvelope(Envelope{PayloadType: pt, Payload: payload}); err == nil {
			t.Errorf("payloadType %q accepted", pt)
		}
	}
	if _, err := StatementFromEnvelope(Envelope{PayloadType: PayloadTypeInToto, Payload: payload}); err != nil {
		t.Fatal(err)
	}
}

func TestPrettyPrintedBundle(t *testing.T) {
	// A *.sigstore.json is one indented document rather than one line.
	raw := dsseLine(PayloadTypeInToto, slsa02Statement(nil))
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	pretty, _ := json.MarshalIndent(map[string]any{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": v}, "", "  ")
	envs, err := ParseEnvelopes(bytes.NewReader(pretty))
	if err != nil || len(envs) != 1 {
		t.Fatalf("%v", err)
	}
	if _, err := StatementFromEnvelope(envs[0]); err != nil {
		t.Fatal(err)
	}
}
