package macho

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestGoDarwinArm64(t *testing.T) {
	f, err := analyze(t, readFixture(t, "hello-arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Fat || f.ArchitectureCount != 1 || len(f.Architectures) != 1 {
		t.Fatalf("fat=%v count=%d architectures=%d", f.Fat, f.ArchitectureCount, len(f.Architectures))
	}
	a := f.Architectures[0]
	checkGoSlice(t, a, "arm64", 0)
	if a.EntryOffset == nil || *a.EntryOffset == 0 || !slices.Contains(a.LoadCommands, "lc_main") {
		t.Errorf("entry %v, commands %v", a.EntryOffset, a.LoadCommands)
	}
	cs := a.CodeSignature
	if cs == nil || cs.CodeDirectory == nil {
		t.Fatalf("no code signature: %+v", cs)
	}
	cd := cs.CodeDirectory
	if cd.Identifier != "a.out" || cd.HashType != "sha256" || cd.HashSize != 32 || cd.PageSize != 4096 || cd.Version != "0x20400" {
		t.Errorf("code directory: %+v", cd)
	}
	if !reflect.DeepEqual(cd.Flags, []string{"adhoc", "linker_signed"}) || !reflect.DeepEqual(cd.ExecSegFlags, []string{"main_binary"}) {
		t.Errorf("code directory flags %v, exec segment flags %v", cd.Flags, cd.ExecSegFlags)
	}
	if cd.TeamID != "" || cs.CMSSignature || cs.Entitlements != "" || cs.DEREntitlements {
		t.Errorf("ad-hoc linker signature has team/CMS/entitlements: %+v", cs)
	}
	if !reflect.DeepEqual(cs.Blobs, []string{"codedirectory"}) {
		t.Errorf("blobs %v", cs.Blobs)
	}
	// The hashes cover the image up to the signature, one per 4 KiB page.
	if cd.CodeLimit != uint64(cs.Offset) || uint64(cd.CodeSlots) != (cd.CodeLimit+4095)/4096 {
		t.Errorf("code limit %d, slots %d, signature offset %d", cd.CodeLimit, cd.CodeSlots, cs.Offset)
	}
	if int64(cs.Offset)+int64(cs.Size) != a.Size {
		t.Errorf("signature %d+%d does not end the %d-byte file", cs.Offset, cs.Size, a.Size)
	}
}

func TestGoDarwinAmd64(t *testing.T) {
	f, err := analyze(t, readFixture(t, "hello-amd64"))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Architectures[0]
	checkGoSlice(t, a, "x86_64", 3)
	if a.CodeSignature != nil {
		t.Errorf("the Go linker does not sign darwin/amd64, yet: %+v", a.CodeSignature)
	}
	if a.EntryOffset != nil || !slices.Contains(a.LoadCommands, "lc_unixthread") {
		t.Errorf("entry %v, commands %v", a.EntryOffset, a.LoadCommands)
	}
	if slices.Contains(a.LoadCommands, "lc_code_signature") {
		t.Error("lc_code_signature listed")
	}
}

// checkGoSlice asserts what every darwin Go executable of testdata/hello has.
func checkGoSlice(t *testing.T, a Architecture, cpu string, subtype uint32) {
	t.Helper()
	if a.Cpu != cpu || a.CpuSubtype != subtype || a.CpuSubtypeName != "all" || a.Bits != 64 || a.FileType != "execute" {
		t.Errorf("header: cpu %s subtype %d (%s) bits %d type %s", a.Cpu, a.CpuSubtype, a.CpuSubtypeName, a.Bits, a.FileType)
	}
	if !a.PIE || !reflect.DeepEqual(a.Flags, []string{"dyldlink", "pie"}) {
		t.Errorf("flags %v pie %v", a.Flags, a.PIE)
	}
	if a.LoadCommandCount != len(a.LoadCommands) || a.LoadCommands[0] != "lc_segment_64" || a.LoadCommandCounts["lc_segment_64"] != 6 || a.LoadCommandCounts["lc_load_dylib"] != 2 {
		t.Errorf("load commands %v counts %v", a.LoadCommands, a.LoadCommandCounts)
	}
	want := []Dylib{{"/usr/lib/libSystem.B.dylib", "load", "0.0.0", "0.0.0"}, {"/usr/lib/libresolv.9.dylib", "load", "0.0.0", "0.0.0"}}
	if !reflect.DeepEqual(a.Dylibs, want) {
		t.Errorf("dylibs %+v", a.Dylibs)
	}
	if a.Dylinker != "/usr/lib/dyld" || a.Platform != "macos" || a.MinOS != "12.0" || a.SDK != "12.0" {
		t.Errorf("dylinker %q platform %q minOS %q sdk %q entry %v", a.Dylinker, a.Platform, a.MinOS, a.SDK, a.EntryOffset)
	}
	if len(a.UUID) != 36 || strings.Count(a.UUID, "-") != 4 || a.UUID != strings.ToUpper(a.UUID) {
		t.Errorf("uuid %q", a.UUID)
	}
	var names []string
	for _, s := range a.Segments {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"__PAGEZERO", "__TEXT", "__DATA_CONST", "__DATA", "__DWARF", "__LINKEDIT"}) {
		t.Errorf("segments %v", names)
	}
	text := a.Segments[1]
	if text.InitProt != "r-x" || text.Entropy < 4 || text.Entropy > 7.5 || len(text.Sections) == 0 || text.Sections[0].Name != "__text" {
		t.Errorf("__TEXT: %+v", text)
	}
	// Go compresses DWARF (__zdebug_*): near 8 bits per byte.
	if d := a.Segments[4]; d.Entropy < 7.5 || len(d.Sections) == 0 {
		t.Errorf("__DWARF: entropy %v, %d sections", d.Entropy, len(d.Sections))
	}
	for _, sym := range []string{"_write", "_pthread_create", "_mmap"} {
		if !slices.Contains(a.ImportedSymbols, sym) {
			t.Errorf("imported symbols lack %s: %v", sym, a.ImportedSymbols)
		}
	}
	if a.ImportedSymbolCount != len(a.ImportedSymbols) || a.ImportedSymbolCount < 40 {
		t.Errorf("imported symbol count %d, listed %d", a.ImportedSymbolCount, len(a.ImportedSymbols))
	}
	if len(a.Anomalies) != 0 {
		t.Errorf("anomalies in a well-formed Go binary: %v", a.Anomalies)
	}
}

func TestFat(t *testing.T) {
	amd, arm := readFixture(t, "hello-amd64"), readFixture(t, "hello-arm64")
	for _, fat64 := range []bool{false, true} {
		b := fat(t, fat64, amd, arm)
		f, err := analyze(t, b)
		if err != nil {
			t.Fatal(err)
		}
		wantMagic := map[bool]string{false: "fat", true: "fat64"}[fat64]
		if !f.Fat || f.FatMagic != wantMagic || f.ArchitectureCount != 2 || len(f.Architectures) != 2 || len(f.Anomalies) != 0 {
			t.Fatalf("fat=%v magic=%q count=%d anomalies=%v", f.Fat, f.FatMagic, f.ArchitectureCount, f.Anomalies)
		}
		x, a := f.Architectures[0], f.Architectures[1]
		if x.Offset != 1<<14 || x.Size != int64(len(amd)) || x.Align != 14 {
			t.Errorf("x86_64 slice at %d size %d align %d", x.Offset, x.Size, x.Align)
		}
		if a.Offset%(1<<14) != 0 || a.Offset < x.Offset+x.Size || a.Size != int64(len(arm)) {
			t.Errorf("arm64 slice at %d size %d", a.Offset, a.Size)
		}
		checkGoSlice(t, x, "x86_64", 3)
		checkGoSlice(t, a, "arm64", 0)
		// The same facts as the thin files, offsets within the slice.
		thin, _ := analyze(t, arm)
		a.Offset, a.Align = 0, 0
		if !reflect.DeepEqual(a, thin.Architectures[0]) {
			t.Errorf("arm64 slice differs from the thin file")
		}
	}
}

// signedDylib is a constructed arm64 dylib with every dylib kind, run paths, a build
// version and a signature holding a CodeDirectory, requirements, entitlements, DER
// entitlements and a CMS blob.
func signedDylib(t testing.TB, entitlements string) []byte {
	m := &machoBuilder{fileType: 6, flags: 0x1 | 0x4 | 0x80 | mhPIE}
	var seg bytes.Buffer
	le32(&seg, 0x19, 72)
	seg.Write(append([]byte("__TEXT"), make([]byte, 10)...))
	le64(&seg, 0, 0x4000, 0, 0)
	le32(&seg, 5, 5, 0, 0)
	m.add(seg.Bytes())
	m.dylib(0xd, "@rpath/libkensa.dylib", 0x00010203, 0x00010000)
	m.dylib(0xc, "/usr/lib/libSystem.B.dylib", 0x05000000|0x100<<8, 0x00010000)
	m.dylib(0x18|lcReqDyld, "/opt/weak/libw.dylib", 0x00020000, 0x00010000)
	m.dylib(0x1f|lcReqDyld, "@rpath/Re.framework/Re", 0x00030001, 0x00030000)
	m.dylib(0x20, "@loader_path/liblazy.dylib", 0x00000100, 0x00000100)
	m.add(strCmd(0x1c|lcReqDyld, "@executable_path/../Frameworks"))
	m.add(strCmd(0x1c|lcReqDyld, "/tmp/evil"))
	var bv bytes.Buffer
	le32(&bv, 0x32, 24, 1, 0x000d0100, 0x000e0203, 0)
	m.add(bv.Bytes())
	var uuid bytes.Buffer
	le32(&uuid, 0x1b, 24)
	uuid.Write([]byte{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb})
	m.add(uuid.Bytes())
	var cs bytes.Buffer
	le32(&cs, 0x1d, 16, 0, 0) // patched below
	m.add(cs.Bytes())

	der := []byte{0x70, 0x03, 0x02, 0x01, 0x01}
	sb := superBlob(
		blob{0, codeDirectory(0x10000|0x4, "dev.kensa.fixture", "ABCDE12345", 0x1|0x40)},
		blob{2, wrapBlob(0xfade0c01, []byte{0, 0, 0, 0})},
		blob{5, wrapBlob(csMagicEntitlements, []byte(entitlements))},
		blob{7, wrapBlob(csMagicDEREntitlements, der)},
		blob{0x1000, codeDirectory(0x10000, "dev.kensa.fixture", "ABCDE12345", 0)},
		blob{0x10000, wrapBlob(csMagicBlobWrapper, bytes.Repeat([]byte{0x30}, 300))},
	)
	_, off := m.build(sb)
	last := m.cmds[len(m.cmds)-1]
	binary.LittleEndian.PutUint32(last[8:], uint32(off))
	binary.LittleEndian.PutUint32(last[12:], uint32(len(sb)))
	out, _ := m.build(sb)
	return out
}

const testEntitlements = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>com.apple.security.cs.allow-jit</key>
	<true/>
	<key>com.apple.security.cs.disable-library-validation</key>
	<true/>
	<key>com.apple.security.temporary-exception.files.absolute-path.read-write</key>
	<array><string>/</string></array>
	<key>keychain-access-groups</key>
	<dict><key>nested.not.top.level</key><string>x</string></dict>
</dict>
</plist>
`

func TestConstructedSignedDylib(t *testing.T) {
	b := signedDylib(t, testEntitlements)
	f, err := analyze(t, b)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Architectures[0]
	if a.Cpu != "arm64" || a.FileType != "dylib" || !a.PIE || !reflect.DeepEqual(a.Flags, []string{"noundefs", "dyldlink", "twolevel", "pie"}) {
		t.Errorf("header %s %s %v", a.Cpu, a.FileType, a.Flags)
	}
	wantCmds := []string{"lc_segment_64", "lc_id_dylib", "lc_load_dylib", "lc_load_weak_dylib", "lc_reexport_dylib",
		"lc_lazy_load_dylib", "lc_rpath", "lc_rpath", "lc_build_version", "lc_uuid", "lc_code_signature"}
	if !reflect.DeepEqual(a.LoadCommands, wantCmds) || a.LoadCommandCounts["lc_rpath"] != 2 {
		t.Errorf("load commands %v counts %v", a.LoadCommands, a.LoadCommandCounts)
	}
	if a.IDDylib == nil || *a.IDDylib != (Dylib{"@rpath/libkensa.dylib", "id", "1.2.3", "1.0.0"}) {
		t.Errorf("id dylib %+v", a.IDDylib)
	}
	want := []Dylib{
		{"/usr/lib/libSystem.B.dylib", "load", "1281.0.0", "1.0.0"},
		{"/opt/weak/libw.dylib", "weak", "2.0.0", "1.0.0"},
		{"@rpath/Re.framework/Re", "reexport", "3.0.1", "3.0.0"},
		{"@loader_path/liblazy.dylib", "lazy", "0.1.0", "0.1.0"},
	}
	if !reflect.DeepEqual(a.Dylibs, want) {
		t.Errorf("dylibs %+v", a.Dylibs)
	}
	if !reflect.DeepEqual(a.Rpaths, []string{"@executable_path/../Frameworks", "/tmp/evil"}) {
		t.Errorf("rpaths %v", a.Rpaths)
	}
	if a.Platform != "macos" || a.MinOS != "13.1" || a.SDK != "14.2.3" || a.UUID != "DEADBEEF-0001-0203-0405-060708090A0B" {
		t.Errorf("platform %q minOS %q sdk %q uuid %q", a.Platform, a.MinOS, a.SDK, a.UUID)
	}
	cs := a.CodeSignature
	if cs == nil || cs.CodeDirectory == nil {
		t.Fatalf("code signature %+v", cs)
	}
	if !reflect.DeepEqual(cs.Blobs, []string{"codedirectory", "requirements", "entitlements", "der_entitlements", "alternate_codedirectory", "cms_signature"}) {
		t.Errorf("blobs %v", cs.Blobs)
	}
	cd := cs.CodeDirectory
	if cd.Identifier != "dev.kensa.fixture" || cd.TeamID != "ABCDE12345" || !reflect.DeepEqual(cd.Flags, []string{"get_task_allow", "runtime"}) ||
		!reflect.DeepEqual(cd.ExecSegFlags, []string{"main_binary", "jit"}) || cd.CodeLimit != 4096 {
		t.Errorf("code directory %+v", cd)
	}
	if !cs.CMSSignature || cs.CMSSignatureSize != 300 || !cs.DEREntitlements || cs.DEREntitlementsSize != 5 || cs.AlternateCodeDirectories != 1 {
		t.Errorf("cms %v/%d der %v/%d alternates %d", cs.CMSSignature, cs.CMSSignatureSize, cs.DEREntitlements, cs.DEREntitlementsSize, cs.AlternateCodeDirectories)
	}
	if cs.Entitlements != testEntitlements || cs.EntitlementsTruncated {
		t.Errorf("entitlements text %q", cs.Entitlements)
	}
	wantKeys := []string{"com.apple.security.cs.allow-jit", "com.apple.security.cs.disable-library-validation",
		"com.apple.security.temporary-exception.files.absolute-path.read-write", "keychain-access-groups"}
	if !reflect.DeepEqual(cs.EntitlementKeys, wantKeys) {
		t.Errorf("entitlement keys %v", cs.EntitlementKeys)
	}
	if len(a.Anomalies) != 0 {
		t.Errorf("anomalies %v", a.Anomalies)
	}
}

func TestEntitlementsBounded(t *testing.T) {
	big := "<plist><dict><key>k</key><string>" + strings.Repeat("A", 2*maxEntitlementsBytes) + "</string></dict></plist>"
	f, _ := analyze(t, signedDylib(t, big))
	cs := f.Architectures[0].CodeSignature
	if !cs.EntitlementsTruncated || len(cs.Entitlements) != maxEntitlementsBytes || !reflect.DeepEqual(cs.EntitlementKeys, []string{"k"}) {
		t.Errorf("truncated %v, %d bytes, keys %v", cs.EntitlementsTruncated, len(cs.Entitlements), cs.EntitlementKeys)
	}
}

// TestHostile feeds malformed images: each must yield an error or an anomaly, never a
// panic.
func TestHostile(t *testing.T) {
	arm := readFixture(t, "hello-arm64")
	signed := signedDylib(t, testEntitlements)
	le := binary.LittleEndian
	cases := map[string]struct {
		b       []byte
		wantErr string // substring of the error; empty: no error
		anomaly string // substring of an anomaly of the first architecture
	}{
		"truncated header":        {b: arm[:20], wantErr: "truncated"},
		"truncated load commands": {b: arm[:200], wantErr: "extend past the end"},
		"huge sizeofcmds": {b: func() []byte {
			b := slices.Clone(arm)
			le.PutUint32(b[20:], 0xfffffff0)
			return b
		}(), wantErr: "past the end", anomaly: "extend past the end of the image"},
		"ncmds beyond commands": {b: func() []byte {
			b := slices.Clone(arm)
			le.PutUint32(b[16:], 1000)
			return b
		}(), wantErr: "past the end of the load command area"},
		"signature past end": {b: signed[:len(signed)-40], anomaly: "extends past the end of the image"},
		"signature bad magic": {b: func() []byte {
			b := slices.Clone(signed)
			i := bytes.Index(b, []byte{0xfa, 0xde, 0x0c, 0xc0})
			b[i+3] = 0
			return b
		}(), anomaly: "does not start with an embedded-signature SuperBlob"},
		"signature huge blob count": {b: func() []byte {
			b := slices.Clone(signed)
			i := bytes.Index(b, []byte{0xfa, 0xde, 0x0c, 0xc0})
			binary.BigEndian.PutUint32(b[i+8:], 0xffffffff)
			return b
		}(), anomaly: "declares 4294967295 blobs"},
		"relocations claim too much": {b: func() []byte {
			m := &machoBuilder{fileType: 1}
			var seg bytes.Buffer
			le32(&seg, 0x19, 72+80*200)
			seg.Write(append([]byte("__TEXT"), make([]byte, 10)...))
			le64(&seg, 0, 0x1000, 0, 0)
			le32(&seg, 7, 7, 200, 0)
			for i := 0; i < 200; i++ {
				seg.Write(append([]byte("__text"), make([]byte, 10)...))
				seg.Write(append([]byte("__TEXT"), make([]byte, 10)...))
				le64(&seg, 0, 0)
				le32(&seg, 0, 0, 0, 0xffffffff, 0, 0, 0, 0)
			}
			m.add(seg.Bytes())
			b, _ := m.build(make([]byte, 1<<16))
			return b
		}(), wantErr: "more than twice the image"},
		"overlapping segments": {b: func() []byte {
			m := &machoBuilder{fileType: 2}
			for i := 0; i < 200; i++ {
				var seg bytes.Buffer
				le32(&seg, 0x19, 72)
				seg.Write(append([]byte(fmt.Sprintf("__S%d", i)), make([]byte, 16-len(fmt.Sprintf("__S%d", i)))...))
				le64(&seg, uint64(i)<<20, 1<<20, 0, 1<<20)
				le32(&seg, 1, 1, 0, 0)
				m.add(seg.Bytes())
			}
			b, _ := m.build(bytes.Repeat([]byte{1, 2, 3, 4}, 1<<18))
			return b[:1<<20]
		}(), anomaly: "entropy of some was not measured (-1)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := analyze(t, c.b)
			if c.wantErr == "" && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
			if c.anomaly != "" {
				if f == nil || len(f.Architectures) == 0 {
					t.Fatalf("no facts")
				}
				found := slices.ContainsFunc(f.Architectures[0].Anomalies, func(s string) bool { return strings.Contains(s, c.anomaly) })
				if !found {
					t.Errorf("anomalies %v lack %q", f.Architectures[0].Anomalies, c.anomaly)
				}
			}
		})
	}
}

func TestM3M4FatHostile(t *testing.T) {
	arm := readFixture(t, "hello-arm64")
	b := fat(t, false, arm)
	// Slice size beyond the end of the file.
	binary.BigEndian.PutUint32(b[8+12:], uint32(len(b)))
	f, err := analyze(t, b)
	if err == nil || !strings.Contains(err.Error(), "outside the file") || len(f.Anomalies) != 1 || !strings.Contains(f.Anomalies[0], "extends past the end") {
		t.Errorf("err %v anomalies %v", err, f.Anomalies)
	}
	// Two entries for the same bytes.
	b = fat(t, false, arm, arm)
	copy(b[8+20+8:8+20+16], b[8+8:8+16])
	f, _ = analyze(t, b)
	if len(f.Anomalies) != 1 || f.Anomalies[0] != "slice 1 (arm64) overlaps slice 0" {
		t.Errorf("anomalies %v", f.Anomalies)
	}
	// A huge architecture count is capped.
	binary.BigEndian.PutUint32(b[4:], 1<<30)
	a := artifact(b)
	a.Format = "macho-fat" // sniff calls such a count a Java class
	facts, err := New().Analyze(context.Background(), a)
	f = facts.(*Facts)
	if f.ArchitectureCount != 1<<30 || len(f.Architectures) != maxArchitectures || err == nil ||
		f.Anomalies[0] != "fat header declares 1073741824 architectures; only the first 32 were analysed" {
		t.Errorf("count %d, %d analysed, err %v, anomalies %v", f.ArchitectureCount, len(f.Architectures), err, f.Anomalies)
	}
}

// symtabImage is a constructed image whose LC_SYMTAB lists n undefined external
// symbols all named by the same NUL-free string of strLen bytes.
func symtabImage(n, strLen int, dysym []uint32) []byte {
	m := &machoBuilder{fileType: 2}
	var st bytes.Buffer
	le32(&st, 0x2, 24, 0, uint32(n), 0, uint32(strLen)) // offsets patched below
	m.add(st.Bytes())
	if dysym != nil {
		var dt bytes.Buffer
		le32(&dt, 0xb, 80, 0, 0, 0, 0, dysym[0], dysym[1])
		dt.Write(make([]byte, 80-32))
		m.add(dt.Bytes())
	}
	syms := make([]byte, 16*n)
	for i := 0; i < n; i++ {
		syms[16*i+4] = 0x01 // N_UNDF | N_EXT
	}
	tail := append(syms, bytes.Repeat([]byte("A"), strLen)...)
	_, off := m.build(tail)
	binary.LittleEndian.PutUint32(m.cmds[0][8:], uint32(off))
	binary.LittleEndian.PutUint32(m.cmds[0][16:], uint32(off+len(syms)))
	b, _ := m.build(tail)
	return b
}

// TestSymbolNamesBounded: every symbol names the same 1 MiB string without a NUL;
// copying each name (as debug/macho does) would allocate 100 GB.
func TestSymbolNamesBounded(t *testing.T) {
	f, err := analyze(t, symtabImage(100_000, 1<<20, nil))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Architectures[0]
	if a.ImportedSymbolCount != 100_000 || len(a.ImportedSymbols) != maxImportedSymbols || len(a.ImportedSymbols[0]) != maxStringBytes {
		t.Errorf("count %d, listed %d, first name %d bytes", a.ImportedSymbolCount, len(a.ImportedSymbols), len(a.ImportedSymbols[0]))
	}
	// An undefined range that wraps around 32 bits.
	f, _ = analyze(t, symtabImage(10, 16, []uint32{0xffffffff, 2}))
	a = f.Architectures[0]
	if a.ImportedSymbolCount != 0 || len(a.Anomalies) != 1 || !strings.Contains(a.Anomalies[0], "undefined range (4294967295+2) exceeds") {
		t.Errorf("count %d anomalies %v", a.ImportedSymbolCount, a.Anomalies)
	}
	// The range selects symbols 2 to 5.
	f, _ = analyze(t, symtabImage(10, 16, []uint32{2, 4}))
	if a = f.Architectures[0]; a.ImportedSymbolCount != 4 || len(a.Anomalies) != 0 {
		t.Errorf("count %d anomalies %v", a.ImportedSymbolCount, a.Anomalies)
	}
}
