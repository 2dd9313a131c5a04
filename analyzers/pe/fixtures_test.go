package pe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// tsaTime is the time the test time-stamping authority puts in its tokens.
const tsaTime = 1700000000 // 2023-11-14T22:13:20Z

// fixtures are the PE files the tests build once per test binary.
type fixtures struct {
	dir string
	// goExe is testdata/goprog cross-compiled for windows/amd64, without DWARF.
	goExe string
	// exe is testdata/exe.c with imports, a TLS callback and a version resource.
	exe string
	// dll is testdata/dll.c with exports (dll.def).
	dll string
	// signed is exe signed with sha256; timestamped the same with an RFC 3161 token;
	// nested is signed with a sha1 signature nested in it; padded has 16 bytes added
	// inside the certificate table (sizes updated, CVE-2013-3900); trailing has bytes
	// appended after the certificate table; tampered has a byte of .text flipped.
	signed, timestamped, nested, padded, trailing, tampered string
	// ca is the test CA that issued the code-signing and time-stamping certificates.
	ca string
	// leafSerial is the code-signing certificate's serial number.
	leafSerial *big.Int
}

var (
	fxOnce sync.Once
	fx     *fixtures
	fxErr  string
)

func getFixtures(t testing.TB) *fixtures {
	t.Helper()
	fixture.Need(t, "x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
	fixture.Need(t, "x86_64-w64-mingw32-windres", "binutils-mingw-w64-x86-64")
	fixture.Need(t, "x86_64-w64-mingw32-dlltool", "binutils-mingw-w64-x86-64")
	fixture.Need(t, "x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64")
	fixture.Need(t, "osslsigncode", "osslsigncode")
	fixture.Need(t, "go", "golang-go (or put /usr/local/go/bin on PATH)")
	fxOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kensa-pe-")
		if err != nil {
			fxErr = err.Error()
			return
		}
		f, msg := build(dir)
		if msg != "" {
			fxErr = msg
			return
		}
		fx = f
	})
	if fxErr != "" {
		t.Fatal(fxErr)
	}
	return fx
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fx != nil {
		os.RemoveAll(fx.dir)
	}
	os.Exit(code)
}

func run(dir string, env []string, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return name + " " + filepath.Base(args[len(args)-1]) + ": " + err.Error() + "\n" + string(out)
	}
	return ""
}

func build(dir string) (*fixtures, string) {
	src, _ := filepath.Abs("testdata")
	f := &fixtures{dir: dir}
	p := func(n string) string { return filepath.Join(dir, n) }
	f.goExe, f.exe, f.dll = p("goprog.exe"), p("exe.exe"), p("kensadll.dll")
	steps := [][]string{
		// -w: objdump (binutils 2.42) sizes compressed .zdebug sections by their
		// decompressed length and then looks for the import table inside .zdebug_info,
		// which would spoil the comparison with it.
		{"go", "build", "-trimpath", "-ldflags=-w", "-o", f.goExe, filepath.Join(src, "goprog", "main.go")},
		{"x86_64-w64-mingw32-dlltool", "-d", filepath.Join(src, "kensaimp.def"), "-l", p("libkensaimp.a")},
		{"x86_64-w64-mingw32-windres", filepath.Join(src, "exe.rc"), "-O", "coff", "-o", p("exe.res")},
		{"x86_64-w64-mingw32-gcc", "-O1", "-s", "-o", f.exe, filepath.Join(src, "exe.c"), p("exe.res"), "-L" + dir, "-lkensaimp", "-Wl,--pdb=kensa.pdb"},
		{"x86_64-w64-mingw32-gcc", "-O1", "-s", "-shared", "-o", f.dll, filepath.Join(src, "dll.c"), filepath.Join(src, "dll.def")},
	}
	for _, s := range steps {
		var env []string
		wd := dir
		if s[0] == "go" {
			env = []string{"GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0"}
			wd = src
		}
		if msg := run(wd, env, s[0], s[1:]...); msg != "" {
			return nil, msg
		}
	}
	if msg := makePKI(f); msg != "" {
		return nil, msg
	}
	f.signed, f.timestamped, f.nested = p("signed.exe"), p("timestamped.exe"), p("nested.exe")
	sign := [][]string{
		{"sign", "-certs", p("chain.pem"), "-key", p("leaf.key"), "-h", "sha256", "-n", "kensa", "-in", f.exe, "-out", f.signed},
		{"sign", "-certs", p("chain.pem"), "-key", p("leaf.key"), "-h", "sha256", "-n", "kensa",
			"-TSA-certs", p("tsa.pem"), "-TSA-key", p("tsa.key"), "-TSA-time", strconv.Itoa(tsaTime), "-in", f.exe, "-out", f.timestamped},
		{"sign", "-certs", p("chain.pem"), "-key", p("leaf.key"), "-h", "sha1", "-nest", "-in", f.signed, "-out", f.nested},
	}
	for _, s := range sign {
		if msg := run(dir, nil, "osslsigncode", s...); msg != "" {
			return nil, msg
		}
	}
	signed, err := os.ReadFile(f.signed)
	if err != nil {
		return nil, err.Error()
	}
	f.padded, f.trailing, f.tampered = p("padded.exe"), p("trailing.exe"), p("tampered.exe")
	if err := os.WriteFile(f.padded, fixture.PEPadCertTable(signed, []byte("KENSA-PAYLOAD!!!")), 0o644); err != nil {
		return nil, err.Error()
	}
	if err := os.WriteFile(f.trailing, append(bytes.Clone(signed), []byte("TRAILING-DATA-AFTER-SIGNATURE")...), 0o644); err != nil {
		return nil, err.Error()
	}
	t := bytes.Clone(signed)
	off := fixture.PETextOffset(t)
	t[off+0x10] ^= 0xff
	if err := os.WriteFile(f.tampered, t, 0o644); err != nil {
		return nil, err.Error()
	}
	return f, ""
}

// makePKI writes a test CA, a code-signing certificate and a time-stamping certificate
// issued by it, as PEM files in f.dir.
func makePKI(f *fixtures) string {
	p := func(n string) string { return filepath.Join(f.dir, n) }
	key := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	}
	nb := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	na := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	caKey := key()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Kensa Test CA", Organization: []string{"Kensa"}},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err.Error()
	}
	ca, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) {
		if err == nil {
			err = os.WriteFile(p(name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	f.ca = p("ca.pem")
	f.leafSerial = big.NewInt(0x4b454e5341)
	for _, c := range []struct {
		name   string
		serial *big.Int
		cn     string
		eku    x509.ExtKeyUsage
	}{
		{"leaf", f.leafSerial, "Kensa Test Code Signing", x509.ExtKeyUsageCodeSigning},
		{"tsa", big.NewInt(0x545341), "Kensa Test TSA", x509.ExtKeyUsageTimeStamping},
	} {
		k := key()
		tmpl := &x509.Certificate{
			SerialNumber: c.serial, Subject: pkix.Name{CommonName: c.cn, Organization: []string{"Kensa"}},
			NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{c.eku}, BasicConstraintsValid: true,
		}
		if c.eku == x509.ExtKeyUsageTimeStamping {
			// OpenSSL wants the time-stamping extended key usage critical (RFC 3161 2.3).
			v, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
			tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: v}}
		}
		der, cerr := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if cerr != nil {
			return cerr.Error()
		}
		kd, _ := x509.MarshalPKCS8PrivateKey(k)
		write(c.name+".pem", "CERTIFICATE", der)
		write(c.name+".key", "PRIVATE KEY", kd)
	}
	if err != nil {
		return err.Error()
	}
	// The signer's chain as embedded in the signatures: leaf, then CA.
	leaf, _ := os.ReadFile(p("leaf.pem"))
	caPEM, _ := os.ReadFile(p("ca.pem"))
	if err := os.WriteFile(p("chain.pem"), append(leaf, caPEM...), 0o600); err != nil {
		return err.Error()
	}
	return ""
}

// analyzeFile runs the analyzer on a file.
func analyzeFile(t testing.TB, path string) (*Facts, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return analyzeBytes(b)
}

func analyzeBytes(b []byte) (*Facts, error) {
	l := limits.Default()
	a := &analyzers.Artifact{Path: "x.exe", Format: sniff.PE, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &l}
	v, err := New().Analyze(context.Background(), a)
	f, _ := v.(*Facts)
	return f, err
}
