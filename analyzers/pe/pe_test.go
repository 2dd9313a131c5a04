package pe

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

func TestInterface(t *testing.T) {
	a := New()
	if a.Name() != "pe" {
		t.Fatalf("Name() = %q", a.Name())
	}
	if !a.Wants(&analyzers.Artifact{Format: sniff.PE}) || a.Wants(&analyzers.Artifact{Format: sniff.ELF}) || a.Wants(&analyzers.Artifact{Format: sniff.MSDOS}) {
		t.Fatal("Wants must accept PE and only PE")
	}
	if _, ok := a.Schema().(*Facts); !ok {
		t.Fatalf("Schema() = %T", a.Schema())
	}
}

func TestGoProgram(t *testing.T) {
	f, err := analyzeFile(t, getFixtures(t).goExe)
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != "amd64" || f.Bits != 64 || !f.Is64 || f.DLL || f.Subsystem != "windows_cui" {
		t.Errorf("header: machine %s bits %d dll %v subsystem %s", f.Machine, f.Bits, f.DLL, f.Subsystem)
	}
	if !f.ASLR || !f.DEP || !f.HighEntropyVA || f.CFG || f.NoSEH || f.ForceIntegrity || f.AppContainer {
		t.Errorf("mitigations: %+v", f.DLLCharacteristics)
	}
	if !slices.Contains(f.DLLCharacteristics, "dynamic_base") || !slices.Contains(f.DLLCharacteristics, "nx_compat") {
		t.Errorf("dllCharacteristics = %v", f.DLLCharacteristics)
	}
	if f.ImageBase != 0x140000000 || f.EntryPointSection != ".text" {
		t.Errorf("image base 0x%x, entry point section %q", f.ImageBase, f.EntryPointSection)
	}
	// The Go linker writes neither a time stamp nor a checksum.
	if f.Timestamps.COFFRaw != 0 || f.Timestamps.COFF != "" || f.Checksum.Stored != 0 || f.Checksum.Valid {
		t.Errorf("timestamps %+v checksum %+v", f.Timestamps, f.Checksum)
	}
	if !reflect.DeepEqual(f.ImportedDLLs, []string{"kernel32.dll"}) {
		t.Errorf("importedDLLs = %v", f.ImportedDLLs)
	}
	for _, want := range []string{"kernel32.dll!WriteFile", "kernel32.dll!LoadLibraryExW", "kernel32.dll!GetProcAddress"} {
		if !slices.Contains(f.Imports, want) {
			t.Errorf("imports lack %s: %v", want, f.Imports)
		}
	}
	if f.ImpHash != imphashOf(f.Imports) {
		t.Errorf("imphash %s, want %s", f.ImpHash, imphashOf(f.Imports))
	}
	if f.TLS.Present || f.Rich.Present || f.DotNet.Present || f.Authenticode.Present || f.Overlay != nil {
		t.Errorf("unexpected: tls %v rich %v dotnet %v authenticode %v overlay %v", f.TLS, f.Rich, f.DotNet, f.Authenticode.Present, f.Overlay)
	}
	names := []string{}
	for _, s := range f.Sections {
		names = append(names, s.Name)
		if s.Entropy < 0 || s.Entropy > 8 {
			t.Errorf("section %s entropy %v", s.Name, s.Entropy)
		}
	}
	for _, want := range []string{".text", ".rdata", ".data", ".idata"} {
		if !slices.Contains(names, want) {
			t.Errorf("sections %v lack %s", names, want)
		}
	}
	if s := f.Sections[0]; s.Name != ".text" || s.Perm != "R-X" || !slices.Contains(s.Flags, "cnt_code") || s.Entropy < 5 {
		t.Errorf(".text = %+v", s)
	}
}

// imphashOf computes pefile's imphash from "dll!func" strings with named imports only:
// an independent statement of the algorithm for the fixtures.
func imphashOf(imports []string) string {
	var parts []string
	for _, s := range imports {
		dll, fn, _ := strings.Cut(s, "!")
		dll = strings.ToLower(dll)
		for _, ext := range []string{".dll", ".ocx", ".sys"} {
			dll = strings.TrimSuffix(dll, ext)
		}
		parts = append(parts, dll+"."+strings.ToLower(fn))
	}
	sum := md5.Sum([]byte(strings.Join(parts, ",")))
	return hex.EncodeToString(sum[:])
}

func TestImphashOrdinals(t *testing.T) {
	// pefile: ordinals of ws2_32, wsock32 and oleaut32 resolve through ordlookup, other
	// ordinals become "ordN"; only the last extension is removed, and only .dll/.ocx/.sys.
	list := []importEntry{
		{"WS2_32.dll", "", true, 23},
		{"OLEAUT32.DLL", "", true, 2},
		{"kensaimp.dll", "", true, 12},
		{"foo.bar.dll", "Func", false, 0},
		{"driver.SYS", "IoCall", false, 0},
		{"plain", "X", false, 0},
		{"lib.exe", "Y", false, 0},
	}
	want := "ws2_32.socket,oleaut32.sysallocstring,kensaimp.ord12,foo.bar.func,driver.iocall,plain.x,lib.exe.y"
	sum := md5.Sum([]byte(want))
	if got := imphash(list); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("imphash = %s, want md5(%q) = %x", got, want, sum)
	}
	if imphash(nil) != "" {
		t.Fatal("imphash of no imports must be empty")
	}
}

func TestExe(t *testing.T) {
	fx := getFixtures(t)
	f, err := analyzeFile(t, fx.exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kensaimp.dll!#12", "kensaimp.dll!kensa_named", "USER32.dll!MessageBoxA", "KERNEL32.dll!GetModuleFileNameA", "KERNEL32.dll!Sleep"} {
		if !slices.Contains(f.Imports, want) {
			t.Errorf("imports lack %s: %v", want, f.Imports)
		}
	}
	if !reflect.DeepEqual(f.ImportedDLLs, []string{"kensaimp.dll", "KERNEL32.dll", "msvcrt.dll", "USER32.dll"}) {
		t.Errorf("importedDLLs = %v", f.ImportedDLLs)
	}
	// imphash with the ordinal written the pefile way ("ordN").
	var named []string
	for _, s := range f.Imports {
		named = append(named, strings.Replace(s, "!#12", "!ord12", 1))
	}
	if f.ImpHash != imphashOf(named) {
		t.Errorf("imphash %s, want %s", f.ImpHash, imphashOf(named))
	}
	want := map[string]string{
		"CompanyName": "Kensa Test Vendor", "FileDescription": "kensa pe fixture", "FileVersion": "1.2.3.4",
		"InternalName": "exe", "LegalCopyright": "Copyright (C) Kensa", "OriginalFilename": "exe.exe",
		"ProductName": "Kensa Fixture", "ProductVersion": "1.2",
	}
	if !reflect.DeepEqual(f.Version, want) {
		t.Errorf("version = %v", f.Version)
	}
	if f.Timestamps.PDBPath != "kensa.pdb" || len(f.Timestamps.Debug) != 1 || f.Timestamps.Debug[0].Type != "codeview" {
		t.Errorf("debug: %+v", f.Timestamps)
	}
	b, _ := os.ReadFile(fx.exe)
	lfanew := binary.LittleEndian.Uint32(b[0x3c:])
	raw := binary.LittleEndian.Uint32(b[lfanew+8:])
	if f.Timestamps.COFFRaw != raw || raw == 0 || f.Timestamps.COFF != time.Unix(int64(raw), 0).UTC().Format(time.RFC3339) {
		t.Errorf("COFF time stamp %d %q, file has %d", f.Timestamps.COFFRaw, f.Timestamps.COFF, raw)
	}
	if !f.Checksum.Valid || f.Checksum.Stored == 0 {
		t.Errorf("checksum %+v (ld writes a correct one)", f.Checksum)
	}
	// mingw's CRT registers TLS callbacks of its own besides the fixture's.
	if !f.TLS.Present || f.TLS.Callbacks < 1 || len(f.TLS.CallbackRVAs) != f.TLS.Callbacks {
		t.Fatalf("tls = %+v", f.TLS)
	}
	text := f.Sections[0]
	for _, rva := range f.TLS.CallbackRVAs {
		if rva < uint64(text.VirtualAddress) || rva >= uint64(text.VirtualAddress+text.VirtualSize) {
			t.Errorf("TLS callback 0x%x outside .text", rva)
		}
	}
	if len(f.Anomalies) != 0 || f.Overlay != nil {
		t.Errorf("anomalies %v overlay %v", f.Anomalies, f.Overlay)
	}
	if f.Authenticode.Present || f.Authenticode.Intact || len(f.Authenticode.Authentihash["sha256"]) != 64 {
		t.Errorf("authenticode %+v", f.Authenticode)
	}
}

func TestDLL(t *testing.T) {
	f, err := analyzeFile(t, getFixtures(t).dll)
	if err != nil {
		t.Fatal(err)
	}
	if !f.DLL || !slices.Contains(f.Characteristics, "dll") || f.ExportName != "kensadll.dll" {
		t.Fatalf("dll %v characteristics %v export name %q", f.DLL, f.Characteristics, f.ExportName)
	}
	got := map[uint32]Export{}
	for _, e := range f.Exports {
		got[e.Ordinal] = e
	}
	if len(f.Exports) != 4 || got[1].Name != "kensa_add" || got[2].Name != "kensa_mul" ||
		got[3].Name != "kensa_tick" || got[3].Forwarder != "kernel32.GetTickCount" ||
		got[7].Name != "" || got[7].Forwarder != "" || got[7].RVA == 0 {
		t.Fatalf("exports = %+v", f.Exports)
	}
	if got[1].RVA < f.Sections[0].VirtualAddress || got[1].RVA >= f.Sections[0].VirtualAddress+f.Sections[0].VirtualSize {
		t.Errorf("kensa_add RVA 0x%x not in .text", got[1].RVA)
	}
}

// TestRichHeader writes a Rich header into the DOS stub of the exe fixture (mingw writes
// none), once with the checksum the linker would compute and once with a wrong one.
func TestRichHeader(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).exe)
	if err != nil {
		t.Fatal(err)
	}
	entries := [][3]uint32{{0x0104, 30319, 7}, {0x00ff, 40219, 1}} // product, build, count
	const dans = 0x48
	rol := func(v uint32, n uint32) uint32 { n %= 32; return v<<n | v>>((32-n)%32) }
	csum := uint32(dans)
	for i := 0; i < dans; i++ {
		if i >= 0x3c && i < 0x40 {
			continue
		}
		csum += rol(uint32(b[i]), uint32(i))
	}
	for _, e := range entries {
		csum += rol(e[0]<<16|e[1], e[2])
	}
	write := func(key uint32) []byte {
		c := bytes.Clone(b)
		w := func(off int, v uint32) { binary.LittleEndian.PutUint32(c[off:], v) }
		for i := dans; i < 0x80; i++ {
			c[i] = 0
		}
		w(dans, 0x536e6144^key) // "DanS"
		w(dans+4, key)
		w(dans+8, key)
		w(dans+12, key)
		off := dans + 16
		for _, e := range entries {
			w(off, (e[0]<<16|e[1])^key)
			w(off+4, e[2]^key)
			off += 8
		}
		copy(c[off:], "Rich")
		w(off+4, key)
		return c
	}
	f, err := analyzeBytes(write(csum))
	if err != nil {
		t.Fatal(err)
	}
	want := []RichEntry{{0x0104, 30319, 7}, {0x00ff, 40219, 1}}
	if !f.Rich.Present || !f.Rich.ChecksumValid || !reflect.DeepEqual(f.Rich.Entries, want) {
		t.Fatalf("rich = %+v", f.Rich)
	}
	f, _ = analyzeBytes(write(csum + 1))
	if !f.Rich.Present || f.Rich.ChecksumValid {
		t.Fatalf("rich with a wrong key = %+v", f.Rich)
	}
	// "Rich" right after "DanS", with no room for the padding: the rest of the file is
	// still read.
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[0x48:], 0x536e6144^5)
	copy(c[0x4c:], "Rich")
	binary.LittleEndian.PutUint32(c[0x50:], 5)
	f, err = analyzeBytes(c)
	if err != nil || f.Machine != "amd64" || f.Rich.Present || len(f.Imports) == 0 {
		t.Fatalf("short rich header: err %v facts %+v", err, f)
	}
}

func TestPublicKeyToken(t *testing.T) {
	// The ECMA standard public key and its well-known token (mscorlib, System).
	ecma := []byte{0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0}
	if got := publicKeyToken(ecma); got != "b77a5c561934e089" {
		t.Fatalf("token = %s", got)
	}
	heap := append([]byte{0, 16}, ecma...)
	if !bytes.Equal(heapBlob(heap, 1), ecma) || heapBlob(heap, 0) != nil || heapBlob([]byte{0, 0x7f}, 1) != nil {
		t.Fatal("heapBlob")
	}
	if heapString([]byte("\x00Kensa.Lib\x00de\x00"), 1) != "Kensa.Lib" || heapString([]byte("\x00a"), 9) != "" {
		t.Fatal("heapString")
	}
}

func TestAnomalies(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).exe)
	if err != nil {
		t.Fatal(err)
	}
	lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
	sh := lfanew + 24 + int(binary.LittleEndian.Uint16(b[lfanew+20:]))
	// Make .text writable (the entry point is in it), and make .data's raw size run past
	// the end of the file and over .rdata.
	c := bytes.Clone(b)
	ch := binary.LittleEndian.Uint32(c[sh+36:])
	binary.LittleEndian.PutUint32(c[sh+36:], ch|scnMemWrite)
	binary.LittleEndian.PutUint32(c[sh+40+16:], uint32(len(c)))
	f, _ := analyzeBytes(c)
	if f == nil {
		t.Fatal("no facts")
	}
	for _, want := range []string{
		"entry point is in a writable section (.text)",
		"section .text is writable and executable",
		"section .data raw data ends past the end of the file",
		"sections .data and .rdata overlap in the file",
	} {
		if !slices.Contains(f.Anomalies, want) {
			t.Errorf("anomalies lack %q: %q", want, f.Anomalies)
		}
	}
	if f.Sections[0].Perm != "RWX" {
		t.Errorf(".text perm %s", f.Sections[0].Perm)
	}
}

func TestP8Limit(t *testing.T) {
	l := limits.Default()
	l.FileSize = 1000
	a := &analyzers.Artifact{Format: sniff.PE, Size: 4096, Content: bytes.NewReader(make([]byte, 4096)), Limits: &l}
	facts, err := New().Analyze(context.Background(), a)
	if facts != nil || !limits.IsLimit(err) || !strings.Contains(err.Error(), "file-size") {
		t.Fatalf("facts %v err %v", facts, err)
	}
	l = limits.Default()
	a = &analyzers.Artifact{Format: sniff.PE, Size: maxImageSize + 1, Content: bytes.NewReader(nil), Limits: &l}
	if _, err := New().Analyze(context.Background(), a); !limits.IsLimit(err) || !strings.Contains(err.Error(), "256M") {
		t.Fatalf("over maxImageSize: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).signed)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 2, 64, 0x90, 0x200, 0x400, 0x2000, len(b) / 2, len(b) - 100} {
		f, err := analyzeBytes(b[:n])
		if f == nil && err == nil {
			t.Errorf("%d bytes: neither facts nor error", n)
		}
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	// Truncated inside the certificate table: the table lies past the end of the file.
	f, _ := analyzeBytes(b[:len(b)-100])
	if f == nil || !f.Authenticode.Present || f.Authenticode.Intact || len(f.Authenticode.Signatures) != 0 {
		t.Errorf("truncated signature: %+v", f)
	}
	if _, err := analyzeBytes([]byte("MZ not a PE file at all, just text")); err == nil {
		t.Error("text with MZ: want an error")
	}
}

// capture runs fn with os.Stdout and os.Stderr redirected and returns what was written.
func capture(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var out bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(&out, r) }()
	func() {
		defer func() { os.Stdout, os.Stderr = stdout, stderr }()
		fn()
	}()
	w.Close()
	wg.Wait()
	r.Close()
	return out.String()
}

func TestG8Silent(t *testing.T) {
	fx := getFixtures(t)
	var inputs [][]byte
	for _, p := range []string{fx.goExe, fx.exe, fx.dll, fx.timestamped, fx.padded, fx.tampered} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
		// Truncations make saferwall log failures of the directories it cannot read.
		for _, n := range []int{0x400, 0x1000, len(b) / 3} {
			inputs = append(inputs, b[:n])
		}
		c := bytes.Clone(b)
		for i := 0x180; i < 0x200 && i < len(c); i++ {
			c[i] ^= 0x5a
		}
		inputs = append(inputs, c)
	}
	n := 0
	out := capture(t, func() {
		for _, b := range inputs {
			if f, _ := analyzeBytes(b); f != nil {
				n++
			}
		}
	})
	if out != "" {
		t.Fatalf("Analyze wrote to stdout/stderr: %q", out)
	}
	if n < len(inputs)/2 {
		t.Fatalf("only %d of %d inputs gave facts", n, len(inputs))
	}
}

func TestHostileExportCounts(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).dll)
	if err != nil {
		t.Fatal(err)
	}
	f, err := analyzeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	// Claim 4G functions and names: the walk stops at the cap or the end of the data.
	c := bytes.Clone(b)
	dirOff := -1
	for _, s := range f.Sections {
		if s.Name == ".edata" {
			dirOff = int(s.RawOffset)
		}
	}
	if dirOff < 0 {
		t.Fatal("no .edata")
	}
	binary.LittleEndian.PutUint32(c[dirOff+20:], 0xffffffff)
	binary.LittleEndian.PutUint32(c[dirOff+24:], 0xffffffff)
	g, _ := analyzeBytes(c)
	if g == nil {
		t.Fatal("no facts")
	}
	if !g.ExportsTruncated || len(g.Exports) > maxExports || len(g.Exports) < 4 {
		t.Fatalf("exports truncated %v, %d exports", g.ExportsTruncated, len(g.Exports))
	}
}

func TestEntropyBudget(t *testing.T) {
	b, err := os.ReadFile(getFixtures(t).exe)
	if err != nil {
		t.Fatal(err)
	}
	lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
	n := int(binary.LittleEndian.Uint16(b[lfanew+6:]))
	sh := lfanew + 24 + int(binary.LittleEndian.Uint16(b[lfanew+20:]))
	// Every section claims the whole file: only the first two are measured.
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(b[sh+40*i+16:], uint32(len(b)))
		binary.LittleEndian.PutUint32(b[sh+40*i+20:], 0)
	}
	f, _ := analyzeBytes(b)
	if f == nil || len(f.Sections) != n {
		t.Fatalf("facts %+v", f)
	}
	for i, s := range f.Sections {
		if s.EntropySkipped != (i >= 2) || (i < 2) != (s.Entropy > 0) {
			t.Errorf("section %d: entropy %v skipped %v", i, s.Entropy, s.EntropySkipped)
		}
	}
}

// chkSum is CheckSumMappedFile's algorithm as imagehlp writes it: a 16-bit one's
// complement sum of the little-endian words (an odd last byte added alone), the CheckSum
// field skipped, plus the file length.
func chkSum(b []byte, checksumOff int) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 2 {
		var w uint32
		switch {
		case i == checksumOff || i == checksumOff+2:
		case i+1 < len(b):
			w = uint32(binary.LittleEndian.Uint16(b[i:]))
		default:
			w = uint32(b[i])
		}
		sum += w
		sum = (sum & 0xffff) + (sum >> 16)
	}
	sum = (sum & 0xffff) + (sum >> 16)
	return sum + uint32(len(b))
}

func TestChecksum(t *testing.T) {
	fx := getFixtures(t)
	for _, p := range []string{fx.goExe, fx.exe, fx.dll, fx.signed, fx.padded, fx.trailing, fx.tampered} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		lfanew := int(binary.LittleEndian.Uint32(b[0x3c:]))
		if want := chkSum(b, lfanew+24+64); f.Checksum.Computed != want {
			t.Errorf("%s (%d bytes): checksum %08x, want %08x", p, len(b), f.Checksum.Computed, want)
		}
	}
}
