package authenticode

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"kensa.dev/kensa/internal/fixture"
)

// tsaTime is the time the test time-stamping authority puts in its tokens.
const tsaTime = 1700000000 // 2023-11-14T22:13:20Z

// testNow is the verification time of the tests: the expired leaf (2022–2024) has
// expired by then, every other certificate is valid.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// authority is a test certificate with its key and PEM files.
type authority struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	// pem is the certificate's PEM file; keyFile the key's; chain the certificate and its
	// issuers below the root, as signatures embed them.
	pem, keyFile, chain string
}

// fixtures are the PKI and PE files the tests build once per test binary.
type fixtures struct {
	dir string
	// borrowed is true in a fuzz worker, which uses its coordinator's files and leaves
	// them alone.
	borrowed bool
	// root issues inter, which issues the code-signing leaves; tsaRoot issues tsa;
	// rogueRoot issues rogue and is never trusted.
	root, inter, tsaRoot, tsa, rogueRoot *authority
	// vendor is the expected signer; other a second publisher under the same root;
	// expired a leaf valid 2022–2024; anyEKU a leaf with anyExtendedKeyUsage only;
	// rogue a leaf under an untrusted root; shortInter an intermediate valid 2020–2021
	// and underShort a leaf it issued.
	// noEKU a leaf without the extended key usage extension.
	vendor, other, expired, anyEKU, noEKU, rogue, shortInter, underShort *authority

	// PE files.
	unsigned, signed, tampered, padded, appended, twoEntries, otherSigned, rogueSigned,
	expiredNoTS, expiredTS, timestamped, nested, nestedSHA1, sha1, md5, anyEKUSigned,
	noEKUSigned, shortInterTS, otherThenVendor, extraCerts, manyCerts, blob, secondSig,
	pageHashes string
}

// fixturesEnv passes the fixture directory from the fuzzing coordinator to its workers.
const fixturesEnv = "KENSA_AUTHENTICODE_FIXTURES"

func isFuzzWorker() bool {
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

var (
	fxOnce sync.Once
	fx     *fixtures
	fxErr  error
)

func getFixtures(t testing.TB) *fixtures {
	t.Helper()
	fixture.Need(t, "osslsigncode", "osslsigncode")
	fixture.Need(t, "go", "golang-go (or put the Go toolchain's bin on PATH)")
	fxOnce.Do(func() {
		// A fuzz worker uses the files its coordinator built: building them again in
		// every worker, with coverage instrumentation, takes minutes.
		if dir := os.Getenv(fixturesEnv); dir != "" && isFuzzWorker() {
			fx = &fixtures{dir: dir, borrowed: true}
			fx.setPaths()
			fx.root = &authority{pem: fx.path("root.pem")}
			fx.tsaRoot = &authority{pem: fx.path("tsaroot.pem")}
			return
		}
		dir, err := os.MkdirTemp("", "authenticode-")
		if err != nil {
			fxErr = err
			return
		}
		fx = &fixtures{dir: dir}
		if fxErr = fx.build(); fxErr == nil {
			fxErr = os.Setenv(fixturesEnv, dir)
		}
	})
	if fxErr != nil {
		t.Fatal(fxErr)
	}
	return fx
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fx != nil && !fx.borrowed {
		os.RemoveAll(fx.dir)
	}
	os.Exit(code)
}

func (f *fixtures) path(name string) string { return filepath.Join(f.dir, name) }

func run(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return &exec.Error{Name: name + " " + filepath.Base(args[len(args)-1]), Err: &cmdError{err, string(out)}}
	}
	return nil
}

type cmdError struct {
	err error
	out string
}

func (e *cmdError) Error() string { return e.err.Error() + "\n" + e.out }

// issue makes a certificate for cn signed by parent (self-signed when parent is nil).
// A nil key makes a new one.
func (f *fixtures) issue(name, cn string, parent *authority, nb, na time.Time, ca bool, eku []x509.ExtKeyUsage, key *rsa.PrivateKey) (*authority, error) {
	var err error
	if key == nil {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"Kensa Test"}},
		NotBefore: nb, NotAfter: na, BasicConstraintsValid: true, IsCA: ca, ExtKeyUsage: eku,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if len(eku) == 1 && eku[0] == x509.ExtKeyUsageTimeStamping {
		// OpenSSL wants the time-stamping extended key usage critical (RFC 3161 2.3).
		v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		tmpl.ExtKeyUsage = nil
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: v}}
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	a := &authority{cert: cert, key: key, pem: f.path(name + ".pem"), keyFile: f.path(name + ".key"), chain: f.path(name + "-chain.pem")}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	chain := certPEM
	if parent != nil && parent.cert.Subject.String() != parent.cert.Issuer.String() {
		p, err := os.ReadFile(parent.pem)
		if err != nil {
			return nil, err
		}
		chain = append(bytes.Clone(certPEM), p...)
	}
	for _, w := range []struct {
		p string
		b []byte
	}{{a.pem, certPEM}, {a.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})}, {a.chain, chain}} {
		if err := os.WriteFile(w.p, w.b, 0o600); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (f *fixtures) pki() error {
	y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	cs := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	var err error
	steps := []struct {
		a    **authority
		name string
		cn   string
		p    **authority
		nb   time.Time
		na   time.Time
		ca   bool
		eku  []x509.ExtKeyUsage
	}{
		{&f.root, "root", "Kensa Test Root", nil, y(2020), y(2045), true, nil},
		{&f.inter, "inter", "Kensa Test Code Signing CA", &f.root, y(2020), y(2044), true, nil},
		{&f.tsaRoot, "tsaroot", "Kensa Test TSA Root", nil, y(2020), y(2045), true, nil},
		{&f.tsa, "tsa", "Kensa Test TSA", &f.tsaRoot, y(2020), y(2044), false, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}},
		{&f.rogueRoot, "rogueroot", "Kensa Rogue Root", nil, y(2020), y(2045), true, nil},
		{&f.vendor, "vendor", "Kensa Vendor Code Signing", &f.inter, y(2020), y(2043), false, cs},
		{&f.other, "other", "Kensa Other Publisher", &f.inter, y(2020), y(2043), false, cs},
		{&f.expired, "expired", "Kensa Vendor Code Signing", &f.inter, y(2022), y(2024), false, cs},
		{&f.anyEKU, "anyeku", "Kensa Any Usage", &f.inter, y(2020), y(2043), false, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}},
		{&f.noEKU, "noeku", "Kensa No Usage", &f.inter, y(2020), y(2043), false, nil},
		{&f.rogue, "rogue", "Kensa Vendor Code Signing", &f.rogueRoot, y(2020), y(2043), false, cs},
		{&f.shortInter, "shortinter", "Kensa Short-Lived CA", &f.root, y(2020), y(2021), true, nil},
		{&f.underShort, "undershort", "Kensa Vendor Code Signing", &f.shortInter, y(2020), y(2043), false, cs},
	}
	for _, s := range steps {
		var parent *authority
		if s.p != nil {
			parent = *s.p
		}
		if *s.a, err = f.issue(s.name, s.cn, parent, s.nb, s.na, s.ca, s.eku, nil); err != nil {
			return err
		}
	}
	return nil
}

// helloC is the program the fixtures sign, built without the C runtime: a small file
// keeps fuzzing fast.
const helloC = "int start(void) { return 42; }\n"

// helloGo is the same in Go, for when no MinGW compiler is installed.
const helloGo = "package main\n\nfunc main() { println(\"kensa authenticode\") }\n"

// buildPE compiles a small windows/amd64 program: with MinGW when it is on PATH (a file
// of 3.5 KB), else with Go.
func (f *fixtures) buildPE(out string) error {
	if _, err := exec.LookPath("x86_64-w64-mingw32-gcc"); err == nil {
		if err := os.WriteFile(f.path("hello.c"), []byte(helloC), 0o600); err != nil {
			return err
		}
		return run(f.dir, nil, "x86_64-w64-mingw32-gcc", "-nostdlib", "-e", "start", "-O1", "-s", "-o", out, f.path("hello.c"))
	}
	if err := os.WriteFile(f.path("hello.go"), []byte(helloGo), 0o600); err != nil {
		return err
	}
	return run(f.dir, []string{"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0", "GO111MODULE=off", "GOFLAGS="},
		"go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, f.path("hello.go"))
}

// setPaths names the PE files in f.dir.
func (f *fixtures) setPaths() {
	p := f.path
	f.unsigned = p("unsigned.exe")
	f.signed, f.otherSigned, f.rogueSigned = p("signed.exe"), p("other.exe"), p("rogue.exe")
	f.expiredNoTS, f.expiredTS, f.timestamped = p("expired.exe"), p("expired-ts.exe"), p("timestamped.exe")
	f.nested, f.nestedSHA1, f.sha1, f.md5 = p("nested.exe"), p("nested-sha1.exe"), p("sha1.exe"), p("md5.exe")
	f.anyEKUSigned, f.noEKUSigned, f.shortInterTS = p("anyeku.exe"), p("noeku.exe"), p("shortinter-ts.exe")
	f.otherThenVendor, f.extraCerts, f.manyCerts = p("other-then-vendor.exe"), p("extra-certs.exe"), p("many-certs.exe")
	f.blob, f.pageHashes = p("blob.exe"), p("page-hashes.exe")
	f.secondSig = p("second-signature.exe")
	f.tampered, f.padded, f.appended, f.twoEntries = p("tampered.exe"), p("padded.exe"), p("appended.exe"), p("two-entries.exe")
}

func (f *fixtures) build() error {
	f.setPaths()
	if err := f.pki(); err != nil {
		return err
	}
	p := f.path
	if err := f.buildPE(f.unsigned); err != nil {
		return err
	}
	sign := func(out string, a *authority, hash, in string, extra ...string) error {
		args := append([]string{"sign", "-certs", a.chain, "-key", a.keyFile, "-h", hash, "-n", "kensa"}, extra...)
		return run(f.dir, nil, "osslsigncode", append(args, "-in", in, "-out", out)...)
	}
	tsa := []string{"-TSA-certs", f.tsa.pem, "-TSA-key", f.tsa.keyFile, "-TSA-time", strconv.Itoa(tsaTime)}
	// A bag of 40 self-signed certificates, more than the 32 a signature may embed.
	var many []byte
	for i := range 40 {
		a, err := f.issue("many"+strconv.Itoa(i), "Kensa Filler "+strconv.Itoa(i), nil,
			time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC), false, nil, f.rogue.key)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(a.pem)
		if err != nil {
			return err
		}
		many = append(many, b...)
	}
	if err := os.WriteFile(p("many.pem"), many, 0o600); err != nil {
		return err
	}
	// The expired leaf signs at the time stamp's time, while it was valid.
	signedThen := []string{"-time", strconv.Itoa(tsaTime)}
	for _, s := range []struct {
		out  string
		a    *authority
		hash string
		in   string
		ex   []string
	}{
		{f.signed, f.vendor, "sha256", f.unsigned, nil},
		{f.otherSigned, f.other, "sha256", f.unsigned, nil},
		{f.rogueSigned, f.rogue, "sha256", f.unsigned, nil},
		{f.expiredNoTS, f.expired, "sha256", f.unsigned, signedThen},
		{f.expiredTS, f.expired, "sha256", f.unsigned, append(tsa, signedThen...)},
		{f.timestamped, f.vendor, "sha256", f.unsigned, tsa},
		{f.nested, f.other, "sha512", f.signed, []string{"-nest"}},
		{f.nestedSHA1, f.vendor, "sha1", f.signed, []string{"-nest"}},
		{f.sha1, f.vendor, "sha1", f.unsigned, nil},
		{f.md5, f.vendor, "md5", f.unsigned, nil},
		{f.anyEKUSigned, f.anyEKU, "sha256", f.unsigned, nil},
		{f.noEKUSigned, f.noEKU, "sha256", f.unsigned, nil},
		{f.shortInterTS, f.underShort, "sha256", f.unsigned, append(tsa, signedThen...)},
		{f.otherThenVendor, f.vendor, "sha256", f.otherSigned, []string{"-nest"}},
		{f.extraCerts, f.vendor, "sha256", f.unsigned, []string{"-ac", f.rogue.pem}},
		{f.manyCerts, f.vendor, "sha256", f.unsigned, []string{"-ac", p("many.pem")}},
		{f.blob, f.vendor, "sha256", f.unsigned, []string{"-addUnauthenticatedBlob"}},
		{f.pageHashes, f.vendor, "sha256", f.unsigned, []string{"-ph"}},
	} {
		if err := sign(s.out, s.a, s.hash, s.in, s.ex...); err != nil {
			return err
		}
	}
	signed, err := os.ReadFile(f.signed)
	if err != nil {
		return err
	}
	// The other publisher's PKCS#7, for a second WIN_CERTIFICATE entry.
	if err := run(f.dir, nil, "osslsigncode", "extract-signature", "-in", f.otherSigned, "-out", p("other.p7")); err != nil {
		return err
	}
	otherP7, err := os.ReadFile(p("other.p7"))
	if err != nil {
		return err
	}
	t := bytes.Clone(signed)
	t[fixture.PETextOffset(t)+0x10] ^= 0xff
	writes := map[string][]byte{
		f.tampered: t,
		f.padded:   fixture.PEPadCertTable(signed, []byte("KENSA-PAYLOAD!!!")),
		f.appended: append(bytes.Clone(signed), []byte("APPENDED-AFTER-THE-CERTIFICATE-TABLE")...),
		f.twoEntries: addCertEntry(signed, 0x0200, 1,
			[]byte("a second WIN_CERTIFICATE entry of type X509 carrying a payload")),
		f.secondSig: addCertEntry(signed, 0x0200, 2, otherP7),
	}
	for path, b := range writes {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// addCertEntry appends a second WIN_CERTIFICATE entry to the table at the end of a
// signed PE32+ file and grows the directory entry to match.
func addCertEntry(signed []byte, revision, typ uint16, content []byte) []byte {
	b := bytes.Clone(signed)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	entry := make([]byte, 8, 8+len(content)+8)
	binary.LittleEndian.PutUint32(entry, uint32(8+len(content)))
	binary.LittleEndian.PutUint16(entry[4:], revision)
	binary.LittleEndian.PutUint16(entry[6:], typ)
	entry = append(entry, content...)
	for len(entry)%8 != 0 {
		entry = append(entry, 0)
	}
	d := fixture.PECertDir(b)
	off := binary.LittleEndian.Uint32(b[d:])
	b = append(b, entry...)
	binary.LittleEndian.PutUint32(b[d+4:], uint32(len(b))-off)
	return b
}
