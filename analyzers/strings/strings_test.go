package strings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	gostrings "strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/entropy"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

func find(f *Facts, enc, value string) *String {
	for i := range f.Strings {
		if f.Strings[i].Encoding == enc && f.Strings[i].Value == value {
			return &f.Strings[i]
		}
	}
	return nil
}

func TestWants(t *testing.T) {
	a := &analyzers.Artifact{Size: 10, Content: bytes.NewReader(make([]byte, 10))}
	for _, f := range []sniff.Format{sniff.ELF, sniff.PE, sniff.MachO, sniff.Script, sniff.Text, sniff.Data, sniff.MSI, sniff.PDF, sniff.Wasm} {
		a.Format = f
		if !New().Wants(a) {
			t.Errorf("Wants(%s) = false", f)
		}
	}
	for _, f := range []sniff.Format{sniff.Empty, sniff.Tar, sniff.Zip, sniff.Jar, sniff.Ar, sniff.Deb, sniff.RPM, sniff.Cpio,
		sniff.Gzip, sniff.Bzip2, sniff.XZ, sniff.LZMA, sniff.Zstd, sniff.SevenZip, sniff.Cab, sniff.RAR, sniff.Squashfs, sniff.ISO9660} {
		a.Format = f
		if New().Wants(a) {
			t.Errorf("Wants(%s) = true", f)
		}
	}
	if New().Wants(&analyzers.Artifact{Format: sniff.ELF, Content: bytes.NewReader(nil)}) {
		t.Error("Wants(empty ELF) = true")
	}
	if New().Name() != "strings" {
		t.Errorf("Name = %q", New().Name())
	}
}

// TestUTF16InPELikeBlob puts wide strings where a PE keeps them (a resource-like table of
// length-prefixed UTF-16LE strings, at even and odd offsets) among code-like bytes.
func TestUTF16InPELikeBlob(t *testing.T) {
	b := []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
	b = append(b, make([]byte, 0x30)...)
	b = append(b, "PE\x00\x00\x64\x86"...)
	for _, s := range []string{"CompanyName", "Contoso Ltd", "FileDescription", "agent"} {
		b = append(b, byte(len(s)), 0)
		b = append(b, utf16le(s)...)
	}
	b = append(b, 0x55) // odd alignment from here
	b = append(b, utf16le("\\\\.\\pipe\\kensa")...)
	b = append(b, 0xe8, 0x12, 0x34, 0x56, 0x78)
	b = append(b, utf16le("http://c2.example.com/ping\tx")...)
	b = append(b, 0, 0)
	f := analyze(t, b, sniff.PE)
	for _, w := range []string{"CompanyName", "Contoso Ltd", "FileDescription", "\\\\.\\pipe\\kensa", "http://c2.example.com/ping\tx"} {
		s := find(f, encUTF16, w)
		if s == nil {
			t.Errorf("UTF-16LE string %q not found; strings: %+v", w, f.Strings)
			continue
		}
		if s.Length != int64(len(w)) || !bytes.Equal(b[s.Offset:s.Offset+2*s.Length], utf16le(w)) {
			t.Errorf("%q: offset %d length %d do not point at it", w, s.Offset, s.Length)
		}
	}
	if find(f, encUTF16, "agent") != nil {
		t.Error("a 5-character string was reported")
	}
	if f.UTF16Count != 5 {
		t.Errorf("UTF16Count %d, want 5", f.UTF16Count)
	}
	u := f.Indicators.URLs.Items
	if len(u) != 1 || u[0].Value != "http://c2.example.com/ping" || u[0].Encoding != encUTF16 || !bytes.Equal(b[u[0].Offset:u[0].Offset+8], utf16le("http")) {
		t.Errorf("URL from a UTF-16 string: %+v", u)
	}
}

// TestChunkBoundary puts strings and indicators across the 1 MiB read boundary at every
// alignment, and a string longer than a whole segment.
func TestChunkBoundary(t *testing.T) {
	for _, shift := range []int{-7, -6, -5, -1, 0, 1, 2, 3} {
		b := make([]byte, 2*chunkSize+100)
		for i := range b {
			b[i] = byte(0x80 + i%7) // not printable
		}
		a := "https://boundary.example.com/ascii/path"
		at := chunkSize - len(a)/2 + shift
		copy(b[at:], a)
		w := utf16le("WideBoundaryString-" + string(rune('a'+shift+7)))
		wat := 2*chunkSize - len(w)/2 + shift
		copy(b[wat:], w)
		f := analyze(t, b, sniff.Data)
		if s := find(f, encASCII, a); s == nil || s.Offset != int64(at) {
			t.Errorf("shift %d: ASCII string across the boundary: %+v", shift, s)
		}
		if s := find(f, encUTF16, string(bytes.ReplaceAll(w, []byte{0}, nil))); s == nil || s.Offset != int64(wat) {
			t.Errorf("shift %d: UTF-16 string across the boundary: %+v", shift, s)
		}
		if v := values(f.Indicators.URLs); !slices.Equal(v, []string{a}) {
			t.Errorf("shift %d: URLs %q", shift, v)
		}
		if f.StringCount != 2 {
			t.Errorf("shift %d: %d strings, want 2", shift, f.StringCount)
		}
	}
	// A 3 MiB string: reported once, value cut, full length, and the indicators at its
	// far end and across its segment boundaries found once.
	long := bytes.Repeat([]byte("abcd "), 3*chunkSize/5)
	copy(long[maxSegment-10:], " ftp://mid.example.org/ ")
	copy(long[len(long)-30:], " AKIAIOSFODNN7EXAMPLE end")
	b := append([]byte{0}, long...)
	b = append(b, 0)
	f := analyze(t, b, sniff.Data)
	if f.StringCount != 1 || f.Strings[0].Length != int64(len(long)) || len(f.Strings[0].Value) != maxValue {
		t.Errorf("long string: count %d, %+v", f.StringCount, f.Strings[0].Length)
	}
	if v := values(f.Indicators.URLs); !slices.Equal(v, []string{"ftp://mid.example.org/"}) || f.Indicators.URLs.Items[0].Offset != int64(1+maxSegment-9) {
		t.Errorf("URL in a long string: %+v", f.Indicators.URLs)
	}
	if s := f.Indicators.Secrets; len(s.Items) != 1 || s.Items[0].Count != 1 || s.Items[0].Offset != int64(1+len(long)-29) {
		t.Errorf("secret at the end of a long string: %+v", s)
	}
}

// TestRedaction checks that no secret appears anywhere in the facts' JSON: not in the
// indicators, not in the strings, not in URLs.
func TestRedaction(t *testing.T) {
	secrets := []string{
		"AKIAZ7QWERTYUIOP1234", "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVb", "glpat-Qw3rTy8uI0pAsDfGhJkL",
		"xoxp-1234567890-abcdefghijkl", "AIzaSyD-Qw3rTy8uI0pAsDfGhJkLzXcVbNm1234", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
		"hunter2hunter2", "Sup3rS3cretPw", "MIIEowIBAAKCAQEA7bq98fSxQ2pmWHoF", "lQm9xNzZ0c2VjcmV0Ym9keWxpbmUy",
		"s3cretV4lue", "eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJyb290In0",
	}
	b := blob(
		"aws_key="+secrets[0], "token: "+secrets[1], secrets[2], "slack "+secrets[3], secrets[4], "stripe "+secrets[5],
		"DB_PASSWORD="+secrets[6], "url https://root:"+secrets[7]+"@db.example.com/x",
		"-----BEGIN RSA PRIVATE KEY-----\n"+secrets[8]+"\n"+secrets[9]+"\n-----END RSA PRIVATE KEY-----",
		`{"client_secret": "`+secrets[10]+`"}`,
		"jwt eyJhbGciOiJIUzI1NiJ9."+secrets[11]+".sig",
	)
	// The key again, one line per string as a binary holds it.
	b = append(b, "-----BEGIN OPENSSH PRIVATE KEY-----\n"+secrets[8]+"\n"+secrets[9]+"\n-----END OPENSSH PRIVATE KEY-----\n\x00"...)
	// And in UTF-16LE.
	b = append(b, utf16le("password="+secrets[6]+"\x00")...)
	for _, format := range []sniff.Format{sniff.Data, sniff.Text} {
		f := analyze(t, b, format)
		j, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(j, []byte(s)) {
				t.Errorf("%s: secret %q appears in the facts: %s", format, s, j)
			}
			if bytes.Contains(j, []byte(s[len(s)/2:])) {
				t.Errorf("%s: second half of secret %q appears in the facts", format, s)
			}
		}
		kinds := map[string]int{}
		for _, it := range f.Indicators.Secrets.Items {
			kinds[it.Kind]++
			if !it.Redacted {
				t.Errorf("%s: secret item not marked redacted: %+v", format, it)
			}
		}
		for _, k := range []string{kindAWS, kindGitHub, kindGitLab, kindSlack, kindGoogle, kindStripe, kindPassword, kindURLCreds, kindKey, kindJWT} {
			if kinds[k] == 0 {
				t.Errorf("%s: no %s found; secrets: %+v", format, k, f.Indicators.Secrets.Items)
			}
		}
		if s := find(f, encASCII, "url https://root:…(13 chars)@db.example.com/x"); format == sniff.Data && (s == nil || !s.Redacted) {
			t.Errorf("%s: string with URL credentials not redacted in place", format)
		}
		u := values(f.Indicators.URLs)
		if !slices.Contains(u, "https://root:…(13 chars)@db.example.com/x") {
			t.Errorf("%s: URL not redacted: %q", format, u)
		}
		if n := len(f.Indicators.Base64.Items); n != 0 {
			t.Errorf("%s: key body reported as base64: %+v", format, f.Indicators.Base64.Items)
		}
	}
}

// TestWindowsBinary builds a small Windows program with GOOS=windows and finds its URL
// (ASCII) and its wide string (UTF-16LE, stored in the binary's data).
func TestWindowsBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "winprog.exe")
	cmd := exec.Command("go", "build", "-trimpath", "-o", exe, "./testdata/winprog")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	f := analyze(t, b, sniff.Detect(b[:sniff.HeadSize], "winprog.exe", int64(len(b))).Format)
	w := find(f, encUTF16, "KensaWideMarker\\Run")
	if w == nil || !bytes.Equal(b[w.Offset:w.Offset+2*w.Length], utf16le("KensaWideMarker\\Run")) {
		t.Errorf("wide string: %+v", w)
	}
	if find(f, encUTF16, "RuntimeOnlyWide") != nil {
		t.Error("a string made at run time cannot be UTF-16 in the file")
	}
	const url = "https://update.kensa-fixture.example.com/agent/beacon"
	found := false
	for _, u := range f.Indicators.URLs.Items {
		if gostrings.HasPrefix(u.Value, url) && u.Host == "update.kensa-fixture.example.com" && u.Scheme == "https" {
			found = true
		}
	}
	if !found {
		t.Errorf("URL not found: %q", values(f.Indicators.URLs))
	}
	// GNU strings agrees on this PE too.
	fa := scanAll(t, b)
	compareSets(t, "winprog.exe", encASCII, gnuStrings(t, exe), ours(fa, encASCII))
	compareSets(t, "winprog.exe", encUTF16, gnuStrings(t, exe, "-e", "l"), ours(fa, encUTF16))
}

func TestEntropy(t *testing.T) {
	// 3 windows: zeros, every byte value, a counter of 16 values; then the last partial one.
	b := make([]byte, 3*regionWindow+100)
	for i := regionWindow; i < 2*regionWindow; i++ {
		b[i] = byte(i)
	}
	for i := 2 * regionWindow; i < len(b); i++ {
		b[i] = byte(i % 16)
	}
	f := analyze(t, b, sniff.Data)
	want, err := entropy.Regions(bytes.NewReader(b), int64(len(b)), regionWindow, maxRegions)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Regions, want) {
		t.Errorf("regions %+v, want %+v", f.Regions, want)
	}
	if f.Entropy != entropy.Of(b) || f.RegionSize != regionWindow {
		t.Errorf("entropy %v (want %v), region size %d", f.Entropy, entropy.Of(b), f.RegionSize)
	}
	if f.MaxRegion == nil || f.MaxRegion.Offset != regionWindow || f.MaxRegion.Entropy != 8 {
		t.Errorf("max region %+v", f.MaxRegion)
	}
	// A file of more than 256 windows: 256 regions covering it.
	big := make([]byte, 260*regionWindow+5)
	f = analyze(t, big, sniff.Data)
	want, _ = entropy.Regions(bytes.NewReader(big), int64(len(big)), regionWindow, maxRegions)
	if len(f.Regions) != len(want) || len(f.Regions) > maxRegions || f.Regions[len(f.Regions)-1] != want[len(want)-1] || f.RegionSize != want[0].Size {
		t.Errorf("%d regions of %d, want %d of %d", len(f.Regions), f.RegionSize, len(want), want[0].Size)
	}
}

func TestStringsCap(t *testing.T) {
	var b []byte
	for range maxStrings + 5 {
		b = append(b, "string\x00"...)
	}
	f := analyze(t, b, sniff.Data)
	if len(f.Strings) != maxStrings || f.StringCount != maxStrings+5 || !f.StringsTruncated || f.ASCIICount != maxStrings+5 {
		t.Errorf("%d listed, %d counted, truncated %v", len(f.Strings), f.StringCount, f.StringsTruncated)
	}
}

type shortReader struct{ b []byte }

func (r shortReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, errors.New("device error")
	}
	n := copy(p, r.b[off:])
	if n < len(p) {
		return n, errors.New("device error")
	}
	return n, nil
}

func TestReadError(t *testing.T) {
	b := append(bytes.Repeat([]byte{0}, 10), "visible string\x00"...)
	a := &analyzers.Artifact{Format: sniff.Data, Size: 5 << 20, Content: shortReader{b}}
	got, err := Listing{}.Analyze(context.Background(), a)
	if err == nil || !gostrings.Contains(err.Error(), "device error") {
		t.Fatalf("error %v", err)
	}
	if f := got.(*Facts); find(f, encASCII, "visible string") == nil {
		t.Errorf("facts before the error lost: %+v", f.Strings)
	}
	a.Content = bytes.NewReader(b) // shorter than Size claims
	if _, err := New().Analyze(context.Background(), a); err == nil || !gostrings.Contains(err.Error(), "content ended") {
		t.Errorf("short content: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a.Content, a.Size = bytes.NewReader(b), int64(len(b))
	if _, err := New().Analyze(ctx, a); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The registry's analyzer counts the strings and lists only the notable ones; Listing
// lists them all.
func TestNotableWithoutListing(t *testing.T) {
	lim := limits.Default()
	run := func(an analyzers.Analyzer, b []byte) *Facts {
		t.Helper()
		got, err := an.Analyze(context.Background(), &analyzers.Artifact{Path: "x", Format: sniff.Data, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &lim})
		if err != nil {
			t.Fatal(err)
		}
		return got.(*Facts)
	}
	var b []byte
	b = append(b, "\x00ordinary text here\x00open(\"/ETC/Shadow\") failed\x00\x01"...)
	b = append(b, utf16le("Start-Process PowerShell -w hidden")...)
	b = append(b, "\x00\x01\x00printf-like /bin/shell_helper\x00curlish no space\x00"...)
	f := run(New(), b)
	if f.Strings != nil || f.StringsTruncated || f.StringCount != 5 {
		t.Errorf("default analyzer: %d strings listed, truncated %v, %d counted; want none listed, 5 counted", len(f.Strings), f.StringsTruncated, f.StringCount)
	}
	var got []string
	for _, n := range f.Notable {
		got = append(got, n.Encoding+":"+n.Value)
	}
	want := []string{`ascii:open("/ETC/Shadow") failed`, "ascii:printf-like /bin/shell_helper", "utf16le:Start-Process PowerShell -w hidden"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notable: %q, want %q", got, want)
	}
	if l := run(Listing{}, b); len(l.Strings) != 5 || len(l.Notable) != 3 {
		t.Errorf("listing analyzer: %d strings, %d notable", len(l.Strings), len(l.Notable))
	}
	for i := range 150 {
		b = append(b, fmt.Sprintf("\x00wget http://host%d/x\x00", i)...)
	}
	if f := run(New(), b); len(f.Notable) != maxNotable || f.StringCount != 155 {
		t.Errorf("%d notable strings of %d, want %d", len(f.Notable), f.StringCount, maxNotable)
	}
	for _, m := range NotableMarkers {
		if !notable([]byte("x"+gostrings.ToUpper(m)+"x")) || notable([]byte(m[:len(m)-1])) {
			t.Errorf("marker %q: found in upper case %v, its prefix %v", m, notable([]byte("x"+gostrings.ToUpper(m)+"x")), notable([]byte(m[:len(m)-1])))
		}
	}
}
