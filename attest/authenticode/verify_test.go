package authenticode

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

// opts are the trust settings most tests use: the test root for code signing, the TSA
// root for time stamps, the vendor's name pinned, the time fixed.
func (f *fixtures) opts(t testing.TB) Options {
	t.Helper()
	roots, err := LoadRoots([]string{f.root.pem}, false)
	if err != nil {
		t.Fatal(err)
	}
	tsaRoots, err := LoadRoots([]string{f.tsaRoot.pem}, false)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := ParseSigner("cn:Kensa Vendor Code Signing")
	if err != nil {
		t.Fatal(err)
	}
	return Options{Roots: roots, TSARoots: tsaRoots, Signers: []Signer{pin}, Time: testNow}
}

// verifyFile runs Check on a file and returns its checks by name (the nested ones
// under CheckNested in order).
func verifyFile(t testing.TB, path string, opts Options) map[string][]result.Check {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return byName(Check("app.exe", bytes.NewReader(b), int64(len(b)), opts))
}

func byName(cs []result.Check) map[string][]result.Check {
	m := map[string][]result.Check{}
	for _, c := range cs {
		m[c.Name] = append(m[c.Name], c)
	}
	return m
}

// osslVerify reports whether `osslsigncode verify` accepts the file with the given
// code-signing and TSA roots at time at.
func osslVerify(t *testing.T, path, caFile, tsaFile string, at time.Time) bool {
	t.Helper()
	cmd := exec.Command("osslsigncode", "verify", "-CAfile", caFile, "-TSA-CAfile", tsaFile, "-ignore-cdp",
		"-time", strconv.FormatInt(at.Unix(), 10), "-in", path)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	if err == nil != strings.Contains(string(out), "Succeeded") {
		t.Fatalf("osslsigncode verify exit status and output disagree: %v\n%s", err, out)
	}
	return err == nil
}

// expect is a check status and a fragment its detail must hold.
type expect struct{ status, detail string }

func (e expect) assert(t *testing.T, name string, got []result.Check) {
	t.Helper()
	if e.status == "" {
		if len(got) != 0 {
			t.Errorf("%s: want no check, got %+v", name, got)
		}
		return
	}
	if len(got) != 1 {
		t.Errorf("%s: want one check, got %+v", name, got)
		return
	}
	if got[0].Status != e.status || !strings.Contains(got[0].Detail, e.detail) {
		t.Errorf("%s = %s %q, want %s containing %q", name, got[0].Status, got[0].Detail, e.status, e.detail)
	}
}

// TestAgainstOsslsigncode verifies each fixture with kensa and with osslsigncode 2.9 and
// asserts both verdicts. Where they differ, the row says why: osslsigncode has no signer
// pinning, accepts padding inside the certificate table (CVE-2013-3900) and MD5/SHA-1
// file digests.
func TestAgainstOsslsigncode(t *testing.T) {
	f := getFixtures(t)
	pass, fail := result.Pass, result.Fail
	covered := expect{pass, "every byte outside the signatures is covered"}
	signedSize := len(readFile(t, f.signed))
	at := func(n int, what string) string {
		return fmt.Sprintf("%d bytes at offset %d (0x%x): %s", n, signedSize, signedSize, what)
	}
	vendor := `by "CN=Kensa Vendor Code Signing,O=Kensa Test" (issuer "CN=Kensa Test Code Signing CA,O=Kensa Test", sha256:`
	rows := []struct {
		name     string
		file     string
		mod      func(*Options)
		tsaFile  string // TSA root given to osslsigncode; the TSA root when empty
		primary  expect
		nested   expect
		coverage expect
		ossl     bool
	}{
		{name: "signed", file: f.signed, primary: expect{pass, vendor}, coverage: covered, ossl: true},
		{name: "unpinned", file: f.signed, mod: func(o *Options) { o.Signers = nil }, primary: expect{pass, "sha256 file digest: valid"}, coverage: covered, ossl: true},
		{name: "tampered", file: f.tampered, primary: expect{fail, "does not match the file's authentihash"}, coverage: covered, ossl: false},
		// osslsigncode 2.9 accepts bytes smuggled inside the certificate table.
		{name: "A1 padded", file: f.padded, primary: expect{pass, vendor}, coverage: expect{fail, at(16, "bytes after the signature and its padding")}, ossl: true},
		{name: "A2 appended", file: f.appended, primary: expect{pass, vendor}, coverage: expect{fail, at(36, "data after the certificate table")}, ossl: false},
		{name: "A10 second entry without signature", file: f.twoEntries, primary: expect{pass, vendor}, coverage: expect{fail, "WIN_CERTIFICATE entry of type 1 holding no signature"}, ossl: false},
		// osslsigncode has no expected-signer option: the other publisher is valid there.
		{name: "other signer pinned", file: f.otherSigned, primary: expect{fail, `not by the expected signer cn:Kensa Vendor Code Signing`}, coverage: covered, ossl: true},
		{name: "other signer pinned by fingerprint", file: f.otherSigned, mod: func(o *Options) { o.Signers = []Signer{mustSigner(t, "sha256:"+fingerprint(f.vendor.cert))} }, primary: expect{fail, "not by the expected signer sha256:"}, coverage: covered, ossl: true},
		{name: "other signer unpinned", file: f.otherSigned, mod: func(o *Options) { o.Signers = nil }, primary: expect{pass, `by "CN=Kensa Other Publisher,O=Kensa Test"`}, coverage: covered, ossl: true},
		{name: "A3 untrusted root", file: f.rogueSigned, primary: expect{fail, "signed by unknown authority"}, coverage: covered, ossl: false},
		{name: "A8 expired without time stamp", file: f.expiredNoTS, primary: expect{fail, "no trusted time stamp"}, coverage: covered, ossl: false},
		{name: "A8 expired with time stamp", file: f.expiredTS, primary: expect{pass, "rfc3161 time stamp 2023-11-14T22:13:20Z by \"CN=Kensa Test TSA,O=Kensa Test\" (certificate validity checked at that time): valid"}, coverage: covered, ossl: true},
		{name: "A8 expired with untrusted TSA", file: f.expiredTS, mod: func(o *Options) { o.TSARoots = o.Roots }, tsaFile: f.root.pem, primary: expect{fail, "the rfc3161 countersignature does not verify: the time-stamping certificate is not trusted"}, coverage: covered, ossl: false},
		{name: "TSA root in the same set", file: f.expiredTS, mod: func(o *Options) { o.Roots.AddCert(f.tsaRoot.cert); o.TSARoots = nil }, primary: expect{pass, "valid"}, coverage: covered, ossl: true},
		// A time stamp that does not verify is named but does not matter while the
		// chain is valid without it (as in osslsigncode).
		{name: "time stamped, TSA untrusted", file: f.timestamped, mod: func(o *Options) { o.TSARoots = o.Roots }, tsaFile: f.root.pem, primary: expect{pass, "the rfc3161 countersignature does not verify: the time-stamping certificate is not trusted: x509: certificate signed by unknown authority (pass its root with --authenticode-tsa-root) (not needed: the chain is valid without it): valid"}, coverage: covered, ossl: true},
		{name: "time stamp after the verification time, not needed", file: f.timestamped, mod: func(o *Options) { o.Time = time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC) }, primary: expect{pass, "the time stamp 2023-11-14T22:13:20Z is after the verification time (not needed: the chain is valid without it): valid"}, coverage: covered, ossl: true},
		// Before the leaf's validity a time stamp from later cannot stand in: osslsigncode
		// does not compare the two times.
		{name: "time stamp after the verification time, needed", file: f.expiredTS, mod: func(o *Options) { o.Time = time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC) }, primary: expect{fail, "the time stamp 2023-11-14T22:13:20Z is after the verification time"}, coverage: covered, ossl: true},
		{name: "time stamped", file: f.timestamped, primary: expect{pass, "rfc3161 time stamp 2023-11-14T22:13:20Z"}, coverage: covered, ossl: true},
		{name: "A5 nested other publisher", file: f.nested, primary: expect{pass, vendor}, nested: expect{pass, `nested signature 1 by "CN=Kensa Other Publisher,O=Kensa Test"`}, coverage: covered, ossl: true},
		// osslsigncode accepts SHA-1 and MD5 file digests.
		{name: "nested sha1", file: f.nestedSHA1, primary: expect{pass, vendor}, nested: expect{fail, "the file digest is SHA-1"}, coverage: covered, ossl: true},
		{name: "nested sha1 allowed", file: f.nestedSHA1, mod: func(o *Options) { o.AllowSHA1 = true }, primary: expect{pass, vendor}, nested: expect{pass, "weak SHA-1 file digest (allowed): valid"}, coverage: covered, ossl: true},
		{name: "A9 sha1", file: f.sha1, primary: expect{fail, "the file digest is SHA-1"}, coverage: covered, ossl: true},
		{name: "A9 md5", file: f.md5, mod: func(o *Options) { o.AllowSHA1 = true }, primary: expect{fail, "the file digest is MD5"}, coverage: covered, ossl: true},
		{name: "X5 anyExtendedKeyUsage leaf", file: f.anyEKUSigned, mod: func(o *Options) { o.Signers = nil }, primary: expect{fail, "lacks the code-signing extended key usage"}, coverage: covered, ossl: false},
		{name: "X4 intermediate expired at signing", file: f.shortInterTS, primary: expect{fail, "nor at the time stamp 2023-11-14T22:13:20Z"}, coverage: covered, ossl: false},
		{name: "unsigned", file: f.unsigned, primary: expect{result.Skip, "not signed"}, ossl: false},
		{name: "unsigned required", file: f.unsigned, mod: func(o *Options) { o.RequireSignature = true }, primary: expect{fail, "a signature is required"}, ossl: false},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			o := f.opts(t)
			if r.mod != nil {
				r.mod(&o)
			}
			got := verifyFile(t, r.file, o)
			r.primary.assert(t, CheckName, got[CheckName])
			r.nested.assert(t, CheckNested, got[CheckNested])
			r.coverage.assert(t, CheckCoverage, got[CheckCoverage])
			tsa := r.tsaFile
			if tsa == "" {
				tsa = f.tsaRoot.pem
			}
			if ok := osslVerify(t, r.file, f.root.pem, tsa, o.Time); ok != r.ossl {
				t.Errorf("osslsigncode verify accepted = %v, want %v", ok, r.ossl)
			}
		})
	}
}

func mustSigner(t testing.TB, s string) Signer {
	t.Helper()
	m, err := ParseSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestA4NoRoots: without roots nothing is trusted, and the host's store is not consulted
// unless asked for (A4): a signature that chains only to a root outside the given set
// fails the same on every host.
func TestA4NoRoots(t *testing.T) {
	f := getFixtures(t)
	o := f.opts(t)
	o.Roots, o.TSARoots = nil, nil
	got := verifyFile(t, f.signed, o)
	expect{result.Fail, "no trusted roots were given"}.assert(t, CheckName, got[CheckName])
	empty, err := LoadRoots(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	o.Roots = empty
	got = verifyFile(t, f.signed, o)
	expect{result.Fail, "signed by unknown authority"}.assert(t, CheckName, got[CheckName])
}

// TestResult checks the structured result of a nested, time-stamped file.
func TestResult(t *testing.T) {
	f := getFixtures(t)
	b, err := os.ReadFile(f.nested)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(bytes.NewReader(b), int64(len(b)), f.opts(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Signed || len(res.Signatures) != 2 || len(res.Uncovered) != 0 || !res.Time.Equal(testNow) {
		t.Fatalf("result = %+v", res)
	}
	p, n := res.Signatures[0], res.Signatures[1]
	if !p.Valid() || p.Nested || p.SHA256 != fingerprint(f.vendor.cert) || p.Issuer != "CN=Kensa Test Code Signing CA,O=Kensa Test" || p.DigestAlgorithm != "sha256" {
		t.Errorf("primary = %+v", p)
	}
	if !n.Valid() || !n.Nested || n.Subject != "CN=Kensa Other Publisher,O=Kensa Test" || n.DigestAlgorithm != "sha512" {
		t.Errorf("nested = %+v", n)
	}
	if _, err := Verify(bytes.NewReader(b[:100]), 100, f.opts(t)); err == nil {
		t.Error("a truncated file verified")
	}
	if _, err := Verify(bytes.NewReader(b), int64(len(b))+1, f.opts(t)); err == nil {
		t.Error("a short read verified")
	}
	cs := Check("x.exe", bytes.NewReader(b[:100]), 100, f.opts(t))
	if len(cs) != 1 || cs[0].Status != result.Erred || cs[0].Name != CheckName {
		t.Errorf("checks on a truncated file = %+v", cs)
	}
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
