package authenticode

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/pe"
	"kensa.dev/kensa/internal/result"
)

// tlv encodes one DER element with the identifier octet id.
func tlv(id byte, body []byte) []byte {
	n := len(body)
	switch {
	case n < 0x80:
		return slices.Concat([]byte{id, byte(n)}, body)
	case n < 0x100:
		return slices.Concat([]byte{id, 0x81, byte(n)}, body)
	case n < 0x10000:
		return slices.Concat([]byte{id, 0x82, byte(n >> 8), byte(n)}, body)
	}
	return slices.Concat([]byte{id, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}, body)
}

// editDER returns der with the element at path (child indexes from der's first
// element) replaced by what fn returns for it, every element around it re-encoded in
// DER with its new length.
func editDER(t testing.TB, der []byte, path []int, fn func(e []byte) []byte) []byte {
	t.Helper()
	if len(path) == 0 {
		return fn(der)
	}
	e, _, err := readElement(der)
	if err != nil || !e.constructed {
		t.Fatalf("editDER: no constructed element at the path (%v)", err)
	}
	kids := elems(e)
	if path[0] >= len(kids) {
		t.Fatalf("editDER: child %d of %d", path[0], len(kids))
	}
	var body []byte
	for i, k := range kids {
		if i == path[0] {
			body = append(body, editDER(t, k.full, path[1:], fn)...)
		} else {
			body = append(body, k.full...)
		}
	}
	return tlv(der[0], body)
}

// flipLast returns fn for editDER that XORs the last content octet of an element.
func flipLast(x byte) func([]byte) []byte {
	return func(e []byte) []byte {
		b := bytes.Clone(e)
		b[len(b)-1] ^= x
		return b
	}
}

func replaceWith(b []byte) func([]byte) []byte { return func([]byte) []byte { return b } }

// Paths in the fixtures' signature blobs (ContentInfo → [0] → SignedData → …).
var (
	pSignedData = []int{1, 0}
	pSDVersion  = []int{1, 0, 0}
	pDigestAlgs = []int{1, 0, 1}
	pEncap      = []int{1, 0, 2}
	pCerts      = []int{1, 0, 3}
	pSIVersion  = []int{1, 0, 4, 0, 0}
	pAuthAttrs  = []int{1, 0, 4, 0, 3}
	pSigAlg     = []int{1, 0, 4, 0, 4}
)

func path(p []int, more ...int) []int { return slices.Concat(p, more) }

// signedBlob returns the fixtures' signed file, its Authenticode material and the
// DER of its signature.
func signedBlob(t testing.TB, f *fixtures) ([]byte, *pe.SignedImage, []byte) {
	t.Helper()
	base := readFile(t, f.signed)
	si, err := pe.ReadAuthenticode(base)
	if err != nil || len(si.Entries) != 1 {
		t.Fatalf("the signed fixture: %v", err)
	}
	e := si.Entries[0]
	return base, si, bytes.Clone(base[e.Offset+8 : e.Offset+8+e.SignatureLength])
}

// TestStrictFormRules: each rule of the strict form, broken in the signature of the
// signed fixture, fails the signature with a detail naming what is wrong. Where
// malleable is set, the change touches nothing a signature covers and the form check
// is the only thing that fails: without it the changed file passes.
func TestStrictFormRules(t *testing.T) {
	f := getFixtures(t)
	opts := f.opts(t)
	base, si, blob := signedBlob(t, f)
	sha1Alg, _ := hex.DecodeString("300906052b0e03021a0500")
	cases := []struct {
		name      string
		blob      []byte
		want      string
		malleable bool
	}{
		{"SignedData version 3", editDER(t, blob, pSDVersion, flipLast(2)), "the SignedData version is 3, not 1", true},
		{"SignerInfo version 3", editDER(t, blob, pSIVersion, flipLast(2)), "the SignerInfo version is 3, not 1", true},
		{"two digest algorithms", editDER(t, blob, pDigestAlgs, func(e []byte) []byte {
			set, _, _ := readElement(e)
			return tlv(0x31, slices.Concat(set.body, sha1Alg))
		}), "the SignedData names 2 digest algorithms; Authenticode requires exactly one", true},
		{"digest algorithms sha512", editDER(t, blob, path(pDigestAlgs, 0, 0), flipLast(2)),
			"the SignerInfo's digest algorithm differs from the SignedData's digestAlgorithms", true},
		{"content type", editDER(t, blob, path(pEncap, 0), flipLast(1)),
			"the signed content type is 1.3.6.1.4.1.311.2.1.5, not SPC_INDIRECT_DATA_OBJID (1.3.6.1.4.1.311.2.1.4)", true},
		{"ContentInfo type", editDER(t, blob, []int{0}, flipLast(1)),
			"the ContentInfo's content type is 1.2.840.113549.1.7.3, not signedData", false},
		{"signature algorithm parameters", editDER(t, blob, path(pSigAlg, 1), replaceWith([]byte{4, 0})),
			"the SignerInfo's signature algorithm rsaEncryption has an OCTET STRING as parameters; it takes NULL or none", true},
		{"digest algorithm parameters", editDER(t, blob, path(pDigestAlgs, 0, 1), replaceWith([]byte{4, 0})),
			"the SignedData's digest algorithm sha256 has an OCTET STRING as parameters", true},
		{"signature algorithm of another hash", editDER(t, blob, path(pSigAlg, 0), replaceWith([]byte{6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 12})),
			"the SignerInfo's signature algorithm sha384WithRSAEncryption names another hash than its digest algorithm sha256", true},
		{"long-form length", editDER(t, blob, pSDVersion, replaceWith([]byte{2, 0x81, 1, 1})),
			"not strict DER: length 1 in the long form (not the shortest form)", true},
		{"length with a leading zero", editDER(t, blob, pSDVersion, replaceWith([]byte{2, 0x82, 0, 1, 1})),
			"not strict DER: length with a leading zero octet", false},
		{"indefinite length", editDER(t, blob, pSignedData, func(e []byte) []byte {
			sd, _, _ := readElement(e)
			kids := elems(sd)
			last := kids[len(kids)-1]
			var body []byte
			for _, k := range kids[:len(kids)-1] {
				body = append(body, k.full...)
			}
			return tlv(0x30, slices.Concat(body, []byte{0x31, 0x80}, last.body, []byte{0, 0}))
		}), "not strict DER: indefinite length (BER, not DER)", true},
		{"CRLs", editDER(t, blob, pSignedData, func(e []byte) []byte {
			sd, _, _ := readElement(e)
			kids := elems(sd)
			var body []byte
			for i, k := range kids {
				if i == len(kids)-1 {
					body = append(body, 0xa1, 0)
				}
				body = append(body, k.full...)
			}
			return tlv(0x30, body)
		}), "the SignedData carries CRLs, which Authenticode does not use", true},
		{"attribute values in a SEQUENCE", editDER(t, blob, path(pAuthAttrs, 0, 1), func(e []byte) []byte {
			b := bytes.Clone(e)
			b[0] = 0x30
			return b
		}), "an authenticated attribute is not a type and a SET of values", false},
		{"certificate's outer algorithm", editDER(t, blob, path(pCerts, 0, 1, 1), replaceWith([]byte{4, 0})),
			"an embedded certificate's signatureAlgorithm differs from the one its signed part names", false},
	}
	for _, c := range cases {
		file := fuzzSignedWith(t, base, si, c.blob)
		res, err := Verify(bytes.NewReader(file), int64(len(file)), opts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := byName(res.Checks("app.exe"))
		expect{result.Fail, c.want}.assert(t, c.name, got[CheckName])
		if p := res.Signatures[0].Problems; c.malleable && (len(p) != 1 || !strings.Contains(p[0], "not a strict Authenticode signature")) {
			t.Errorf("%s: want the form as the only problem, got %q", c.name, p)
		}
	}
	// The unchanged blob, re-encoded by the same helper, passes.
	file := fuzzSignedWith(t, base, si, editDER(t, blob, pSDVersion, flipLast(0)))
	expect{result.Pass, "valid"}.assert(t, "unchanged", checkBytes(t, file, opts)[CheckName])
}

// TestStrictFormNested: a nested signature is held to the form on its own: its
// SignedData version changed to 3 fails its check, naming it, while the primary
// signature, whose own fields are untouched, passes.
func TestStrictFormNested(t *testing.T) {
	f := getFixtures(t)
	b := readFile(t, f.nested)
	si, err := pe.ReadAuthenticode(b)
	if err != nil || len(si.Entries) != 1 || len(si.Signatures) != 2 {
		t.Fatalf("the nested fixture: %v", err)
	}
	e := si.Entries[0]
	blob := b[e.Offset+8 : e.Offset+8+e.SignatureLength]
	nested := nestedOf(blob)
	if len(nested) != 1 {
		t.Fatalf("%d nested signatures found in the nested fixture", len(nested))
	}
	// The nested SignedData's version octet, located in the file.
	ci, _, _ := readElement(nested[0])
	version := elems(elems(elems(ci)[1])[0])[0]
	at := int(e.Offset+8) + cap(blob) - cap(version.body)
	if b[at] != 1 {
		t.Fatalf("byte %#x is %#x, not the version 1", at, b[at])
	}
	b = bytes.Clone(b)
	b[at] = 3
	got := checkBytes(t, b, f.opts(t))
	expect{result.Pass, "valid"}.assert(t, CheckName, got[CheckName])
	expect{result.Fail, "not a strict Authenticode signature: the SignedData version is 3, not 1"}.assert(t, CheckNested, got[CheckNested])
}

// TestStrictDER: the TLV walker's rules, on small encodings.
func TestStrictDER(t *testing.T) {
	for _, c := range []struct{ hex, want string }{
		{"3003020101", ""},
		{"30030201", "length 3 runs past its parent by 1 bytes"},
		{"3081030201 01", "length 3 in the long form"},
		{"308200030201 01", "leading zero octet"},
		{"3080020101 0000", "indefinite length"},
		{"3003020101 00", "1 bytes follow"},
		{"30 03 0000 00", "end-of-contents marker"},
		{"3003 0101 01", "BOOLEAN not encoded as 00 or FF"},
		{"3004 02020001", "INTEGER not in the fewest octets"},
		{"3004 0202ff80", "INTEGER not in the fewest octets"},
		{"3002 0200", "empty INTEGER"},
		{"3003 0501 00", "NULL with content"},
		{"3004 0602 8001", "OBJECT IDENTIFIER with a padded subidentifier"},
		{"3003 0601 81", "malformed OBJECT IDENTIFIER"},
		{"3004 0302 0101", "BIT STRING with non-zero unused bits"},
		{"3003 0301 01", "malformed BIT STRING"},
		{"3004 2402 0400", "constructed encoding of universal type 4"},
		{"3002 1000", "primitive SEQUENCE"},
		{"3003 1f1e 00", "tag number 30 in the long form"},
		{"3004 1f801f 00", "leading zero group"},
		{"3003 1f1f 00", ""},
		{"3084 00000003 020101", "leading zero octet"},
		{"30 85 0100000000", "length of 5 octets"},
		{"", "the signature is empty"},
	} {
		b, err := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		err = strictDER(b)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", c.hex, err, c.want)
		}
	}
	// Depth and count are bounded.
	nest := func(n int) []byte {
		b := []byte{5, 0}
		for range n {
			b = tlv(0x30, b)
		}
		return b
	}
	if err := strictDER(nest(maxDERDepth + 1)); err == nil || !strings.Contains(err.Error(), "nested deeper than 64 levels") {
		t.Errorf("%d levels: %v", maxDERDepth+1, err)
	}
	if err := strictDER(nest(maxDERDepth)); err != nil {
		t.Errorf("%d levels: %v", maxDERDepth, err)
	}
	many := tlv(0x30, bytes.Repeat([]byte{5, 0}, maxDERElements))
	if err := strictDER(many); err == nil || !strings.Contains(err.Error(), "more than 262144 elements") {
		t.Errorf("%d elements: %v", maxDERElements+1, err)
	}
}

// TestStrictFormFixtures: every signature osslsigncode made for the fixtures (SHA-1,
// SHA-256, SHA-512 and MD5 digests, RFC 3161 time stamps, nested signatures, extra
// certificates, page hashes, an unauthenticated blob, a second certificate table
// entry) is in strict form.
func TestStrictFormFixtures(t *testing.T) {
	f := getFixtures(t)
	n := 0
	for _, p := range []string{f.signed, f.otherSigned, f.rogueSigned, f.expiredNoTS, f.expiredTS, f.timestamped, f.nested,
		f.nestedSHA1, f.sha1, f.md5, f.anyEKUSigned, f.noEKUSigned, f.shortInterTS, f.otherThenVendor, f.extraCerts,
		f.manyCerts, f.blob, f.pageHashes, f.secondSig, f.twoEntries, f.padded, f.appended, f.tampered} {
		b := readFile(t, p)
		si, err := pe.ReadAuthenticode(b)
		if err != nil || len(si.Signatures) == 0 {
			t.Fatalf("%s: %v", p, err)
		}
		for i, pr := range strictProblems(b, si) {
			n++
			if len(pr) > 0 {
				t.Errorf("%s signature %d: %v", filepath.Base(p), i, pr)
			}
		}
	}
	t.Logf("%d signatures in strict form", n)
}

// realSigned are PE files signed by their vendors that the module cache holds (test
// files of modules kensa builds with), with the number of signatures in each.
var realSigned = []struct {
	module, file string
	signatures   int
}{
	{"github.com/saferwall/pe", "test/mscorlib.dll", 1},
	{"github.com/saferwall/pe", "test/liblzo2-2.dll", 1},
	{"github.com/saferwall/pe", "test/SgrmEnclave_secure.dll", 1},
	{"github.com/saferwall/pe", "test/WdBoot.sys", 1},
	{"github.com/saferwall/pe", "test/amdxata.sys", 1},
	{"github.com/saferwall/pe", "test/kernel32.dll", 1},
	{"github.com/saferwall/pe", "test/KernelBase.dll", 1},
	{"github.com/saferwall/pe", "test/acpi.sys", 1},
	{"github.com/saferwall/pe", "test/WdfCoInstaller01011.dll", 2},
	{"github.com/saferwall/pe", "test/YourPhone.Exp.WinRT.dll", 1},
	{"github.com/saferwall/pe", "test/pwsh.exe", 1},
	{"github.com/saferwall/pe", "test/putty.exe", 2},
	{"github.com/saferwall/pe", "test/putty_modified.exe", 2},
	{"github.com/saferwall/pe", "test/mfc140u.dll", 2},
	{"github.com/saferwall/pe", "test/brave.exe", 1},
	{"golang.org/x/sys", "windows/testdata/ev-signed-file.exe", 1},
}

// moduleDir returns the module cache directory of a module in kensa's go.mod, offline.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m %s: %v (the module must be in the module cache: go mod download %s)", module, err, module)
	}
	return dir
}

// TestStrictFormRealSignatures: the signatures of real vendors (Microsoft's Windows
// files and drivers with their RFC 3161 time stamps, dual SHA-1/SHA-256 signatures
// with nested signatures, PuTTY, Brave, an EV code-signing certificate) are in strict
// form, and their PKCS#7 signatures verify, as the form changes none of that.
func TestStrictFormRealSignatures(t *testing.T) {
	dirs := map[string]string{}
	n := 0
	for _, r := range realSigned {
		if dirs[r.module] == "" {
			dirs[r.module] = moduleDir(t, r.module)
		}
		b := readFile(t, filepath.Join(dirs[r.module], r.file))
		si, err := pe.ReadAuthenticode(b)
		if err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		if len(si.Signatures) != r.signatures {
			t.Errorf("%s: %d signatures, want %d", r.file, len(si.Signatures), r.signatures)
		}
		for i, pr := range strictProblems(b, si) {
			n++
			if !si.Authenticode.Signatures[i].SignatureVerifies {
				t.Errorf("%s signature %d does not verify: %s", r.file, i, si.Authenticode.Signatures[i].VerifyError)
			}
			if len(pr) > 0 {
				t.Errorf("%s signature %d: %v", r.file, i, pr)
			}
		}
	}
	t.Logf("%d real signatures in %d files in strict form", n, len(realSigned))
}

// TestStrictFlipSweep changes each byte of the signed fixture's PKCS#7 by 0x01, 0x80
// and 0xff in turn (the fuzz target below does any value at random) and verifies the
// file: every change fails. It counts the changes only the form check catches, which
// passed cleanly before it. The one free byte FuzzAuthenticodeFlip documents
// (rsaEncryption respelled sha256WithRSAEncryption, a change by 0x0a) passes, and
// rsaSpelling names it.
func TestStrictFlipSweep(t *testing.T) {
	f := getFixtures(t)
	opts := f.opts(t)
	base, si, blob := signedBlob(t, f)
	start := si.Entries[0].Offset + 8
	var total, formOnly, free int
	for i := range blob {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(base)
			b[start+int64(i)] ^= x
			total++
			res, err := Verify(bytes.NewReader(b), int64(len(b)), opts)
			if err != nil {
				continue
			}
			clean := true
			for _, c := range res.Checks("app.exe") {
				clean = clean && c.Status == result.Pass
			}
			if clean {
				if !rsaSpelling(t, blob, i, x) {
					t.Errorf("byte %d of the PKCS#7 changed by %#x passes", i, x)
				}
				free++
				continue
			}
			if p := res.Signatures; len(p) == 1 && len(p[0].Problems) == 1 && strings.HasPrefix(p[0].Problems[0], "not a strict Authenticode signature") &&
				len(res.Uncovered) == 0 {
				formOnly++
			}
		}
	}
	t.Logf("%d one-byte changes of a %d-byte PKCS#7: %d fail on the form alone, %d pass", total, len(blob), formOnly, free)
	if formOnly == 0 || free > 0 {
		t.Errorf("%d changes caught by the form alone, %d free", formOnly, free)
	}

	// The free byte: rsaEncryption (…1.1.1) respelled sha256WithRSAEncryption (…1.1.11),
	// which the oracle recognises, while …1.1.12 (SHA-384) fails.
	ci, _, _ := readElement(blob)
	sd := elems(elems(elems(ci)[1])[0])
	oid := elems(elems(elems(sd[len(sd)-1])[0])[4])[0].body
	at := cap(blob) - cap(oid) + len(oid) - 1
	for x, pass := range map[byte]bool{0x0a: true, 0x0d: false} {
		b := bytes.Clone(base)
		b[start+int64(at)] ^= x
		got := checkBytes(t, b, opts)[CheckName]
		if len(got) != 1 || (got[0].Status == result.Pass) != pass || rsaSpelling(t, blob, at, x) != pass {
			t.Errorf("signature algorithm OID's last octet changed by %#x: %+v, want pass %v", x, got, pass)
		}
	}
}

// FuzzStrictForm fuzzes the strict-form check alone on signature blobs, seeded with the
// fixtures' signatures. Nothing panics, the verdict is the same twice, whatever it
// accepts as strict DER Go's encoding/asn1 (a DER parser) reads element for element
// with the same boundaries, and the nested signatures it finds in an accepted blob are
// strict DER themselves.
func FuzzStrictForm(f *testing.F) {
	fx := getFixtures(f)
	for _, p := range []string{fx.signed, fx.timestamped, fx.nested, fx.blob, fx.otherThenVendor} {
		b := readFile(f, p)
		si, err := pe.ReadAuthenticode(b)
		if err != nil || len(si.Entries) == 0 {
			f.Fatalf("%s: %v", p, err)
		}
		e := si.Entries[0]
		f.Add(bytes.Clone(b[e.Offset+8 : e.Offset+8+e.SignatureLength]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := authenticodeForm(b)
		if again := authenticodeForm(b); (err == nil) != (again == nil) || err != nil && err.Error() != again.Error() {
			t.Fatalf("two checks differ: %v and %v", err, again)
		}
		if strictDER(b) != nil {
			return
		}
		if err := asn1Walk(b, 0); err != nil {
			t.Fatalf("accepted as strict DER, but encoding/asn1 disagrees: %v", err)
		}
		if err != nil {
			return
		}
		for _, n := range nestedOf(b) {
			if err := strictDER(n); err != nil && !strings.Contains(err.Error(), "not a ContentInfo") {
				t.Fatalf("a nested signature of an accepted blob is not strict DER: %v", err)
			}
		}
	})
}

// asn1Walk reads every element of b with encoding/asn1 and checks that readElement
// finds the same ones.
func asn1Walk(b []byte, depth int) error {
	for len(b) > 0 {
		var rv asn1.RawValue
		rest, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			return err
		}
		e, _, rerr := readElement(b)
		if rerr != nil || len(e.full) != len(rv.FullBytes) || e.tag != rv.Tag || int(e.class) != rv.Class || e.constructed != rv.IsCompound {
			return fmt.Errorf("element at depth %d: readElement gives %d bytes, tag %d (%v), encoding/asn1 %d bytes, tag %d", depth,
				len(e.full), e.tag, rerr, len(rv.FullBytes), rv.Tag)
		}
		if rv.IsCompound {
			if err := asn1Walk(rv.Bytes, depth+1); err != nil {
				return err
			}
		}
		b = rest
	}
	return nil
}
