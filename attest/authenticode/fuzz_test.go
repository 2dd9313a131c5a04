package authenticode

import (
	"bytes"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/result"
)

// FuzzVerify feeds mutated signed PE files to Verify, seeded with the fixtures. Besides
// no panic and well-formed, deterministic checks, it holds the mutation oracle of
// bad-inputs.md: a primary signature may pass only when the file's authentihash is one
// the test keys signed, so any change to a hashed byte fails.
//
// Each input costs a few PKCS#7 parses and RSA verifications, so the fuzzer spends much
// of a short run minimizing what it finds; -fuzzminimizetime 5s keeps it mutating.
func FuzzVerify(f *testing.F) {
	fx := getFixtures(f)
	opts := fx.opts(f)
	signedDigests := map[string]bool{}
	for _, p := range []string{fx.signed, fx.timestamped, fx.expiredTS, fx.nested, fx.padded, fx.secondSig, fx.unsigned, fx.blob} {
		b := readFile(f, p)
		f.Add(b)
		si, err := pe.ReadAuthenticode(b)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range si.Authenticode.Signatures {
			signedDigests[s.DigestAlgorithm+":"+s.SignedDigest] = true
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := Verify(bytes.NewReader(b), int64(len(b)), opts)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		checks := res.Checks("x.exe")
		primary := 0
		for _, c := range checks {
			if c.Status != result.Pass && c.Status != result.Fail && c.Status != result.Skip || c.Detail == "" {
				t.Fatalf("check %+v", c)
			}
			if c.Name == CheckName {
				primary++
			}
		}
		if primary != 1 || res.Signed && checks[len(checks)-1].Name != CheckCoverage {
			t.Fatalf("%d %s checks", primary, CheckName)
		}
		if checks[0].Status != result.Pass {
			return
		}
		si, err := pe.ReadAuthenticode(b)
		if err != nil {
			t.Fatal(err)
		}
		alg := res.Signatures[0].DigestAlgorithm
		if h := si.Authenticode.Authentihash[alg]; !signedDigests[alg+":"+h] {
			t.Fatalf("a file with the unsigned authentihash %s:%s passed", alg, h)
		}
	})
}
