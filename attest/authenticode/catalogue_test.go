package authenticode

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

// signWithSubject signs the unsigned fixture with a code-signing leaf issued by the
// fixtures' intermediate CA for the given subject, with osslsigncode, and returns the
// signed file and the leaf.
func signWithSubject(t *testing.T, f *fixtures, subject pkix.Name) ([]byte, *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2043, 1, 1, 0, 0, 0, 0, time.UTC),
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.inter.cert, &key.PublicKey, f.inter.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), readFile(t, f.inter.pem)...)
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"chain.pem": chain, "leaf.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "signed.exe")
	if err := run(dir, nil, "osslsigncode", "sign", "-certs", filepath.Join(dir, "chain.pem"), "-key", filepath.Join(dir, "leaf.key"),
		"-h", "sha256", "-n", "kensa", "-in", f.unsigned, "-out", out); err != nil {
		t.Fatal(err)
	}
	return readFile(t, out), leaf
}

// equalsHashName is a subject whose every value is "=#" repeated n times, with an
// attribute of an unknown type (printed as "OID=#HEX") holding the same.
func equalsHashName(n int) pkix.Name {
	v := strings.Repeat("=#", n)
	return pkix.Name{
		CommonName: v, Organization: []string{"#" + v}, OrganizationalUnit: []string{v + "#"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Value: v}},
	}
}

// allocated is the number of bytes allocated by one Check of the file, the least of
// three runs.
func allocated(t *testing.T, file []byte, o Options) uint64 {
	t.Helper()
	best := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		Check("app.exe", bytes.NewReader(file), int64(len(file)), o)
		runtime.ReadMemStats(&after)
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}

// TestX3RepeatedEqualsHashInDN: a signer certificate whose distinguished name is "=#"
// repeated (notation CVE-2023-25656: parsing such a DN exhausted memory) is handled in
// memory linear in its size. kensa never parses a DN from text: a subject:DN pin is
// compared with the certificate's subject as crypto/x509 prints it. The pin matches
// such a subject exactly, another pin fails naming it, and the bytes allocated by the
// check grow with the DN as a line, not a square: four times the DN costs about four
// times the extra memory.
func TestX3RepeatedEqualsHashInDN(t *testing.T) {
	f := getFixtures(t)
	base := f.opts(t)
	base.Signers = nil

	const small, large = 1000, 4000
	smallFile, smallLeaf := signWithSubject(t, f, equalsHashName(small))
	largeFile, largeLeaf := signWithSubject(t, f, equalsHashName(large))
	dn := largeLeaf.Subject.String()
	if strings.Count(dn, "=#") < 3*large {
		t.Fatalf("the subject prints as %.200q…", dn)
	}

	pin, err := ParseSigner("subject:" + dn)
	if err != nil {
		t.Fatal(err)
	}
	o := base
	o.Signers = []Signer{pin}
	got := checkBytes(t, largeFile, o)
	expect{result.Pass, "valid"}.assert(t, CheckName, got[CheckName])

	o.Signers = []Signer{mustSigner(t, "cn:Kensa Vendor Code Signing")}
	got = checkBytes(t, largeFile, o)
	expect{result.Fail, "not by the expected signer cn:Kensa Vendor Code Signing"}.assert(t, CheckName, got[CheckName])
	if c := got[CheckName]; len(c) == 1 && len(c[0].Detail) > 4*len(dn)+4096 {
		t.Errorf("the detail is %d bytes for a DN of %d", len(c[0].Detail), len(dn))
	}
	// The pin of one subject does not match the other, which differs only in length.
	if pin.Match(smallLeaf) {
		t.Error("the pin matched the shorter subject")
	}

	// Memory: the extra allocation over an ordinary signed file grows linearly.
	plain := readFile(t, f.signed)
	o.Signers = []Signer{pin}
	ref := allocated(t, plain, o)
	extraSmall := int64(allocated(t, smallFile, o)) - int64(ref)
	extraLarge := int64(allocated(t, largeFile, o)) - int64(ref)
	t.Logf("DN of %d and %d bytes: %d bytes allocated for an ordinary file, %d and %d more", len(smallLeaf.Subject.String()), len(dn), ref, extraSmall, extraLarge)
	if extraSmall <= 0 {
		extraSmall = 1
	}
	if extraLarge > 8*extraSmall+(1<<20) {
		t.Errorf("four times the DN costs %d bytes more, against %d: not linear", extraLarge, extraSmall)
	}
	if extraLarge > int64(200*len(dn)) {
		t.Errorf("a DN of %d bytes costs %d bytes more to check", len(dn), extraLarge)
	}

	// A pin of a megabyte of "=#" is read and compared without being parsed.
	huge := "subject:" + strings.Repeat("=#", 1<<19)
	allocs := testing.AllocsPerRun(10, func() {
		p, err := ParseSigner(huge)
		if err != nil || p.Match(largeLeaf) {
			t.Error("the huge pin was refused or matched")
		}
	})
	if allocs > 64 {
		t.Errorf("ParseSigner and Match of a huge subject pin: %.0f allocations", allocs)
	}
}
