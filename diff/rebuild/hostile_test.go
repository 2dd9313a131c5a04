package rebuild

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"kensa.dev/kensa/analyzers/inventory"
)

// hostileInputs are truncated and garbage executables made from the built fixtures.
func hostileInputs(t testing.TB) map[string][]byte {
	t.Helper()
	elfData, err := os.ReadFile(buildC(t, vendorBuild("gcc", "-g")))
	if err != nil {
		t.Fatal(err)
	}
	peData, err := os.ReadFile(buildC(t, vendorBuild("x86_64-w64-mingw32-gcc")))
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte{0xa5, 0x13, 0xff, 0x00, 0x41}, 2000)
	return map[string][]byte{
		"elf-header-only":   elfData[:64],
		"elf-cut-short":     elfData[:20],
		"elf-first-half":    elfData[:len(elfData)/2],
		"elf-garbage":       append([]byte("\x7fELF\x02\x01\x01"), garbage...),
		"pe-header-only":    peData[:0x100],
		"pe-first-half":     peData[:len(peData)/2],
		"pe-garbage":        append([]byte("MZ"), garbage...),
		"macho-garbage":     append([]byte{0xcf, 0xfa, 0xed, 0xfe}, garbage...),
		"elf-against-empty": nil,
	}
}

// Truncated and garbage executables give errors, never a panic and never a verdict.
func TestHostileBinaries(t *testing.T) {
	good, err := os.ReadFile(buildC(t, buyerBuild("gcc", "-g")))
	if err != nil {
		t.Fatal(err)
	}
	goodPE, err := os.ReadFile(buildC(t, buyerBuild("x86_64-w64-mingw32-gcc")))
	if err != nil {
		t.Fatal(err)
	}
	goodMachO, err := os.ReadFile(goBuild(t, "go-buyer-copy", "darwin", "arm64", nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range hostileInputs(t) {
		t.Run(name, func(t *testing.T) {
			ref := good
			switch name[:2] {
			case "pe":
				ref = goodPE
			case "ma":
				ref = goodMachO
			}
			for _, pair := range [][2][]byte{{data, ref}, {ref, data}} {
				bd, err := CompareBinary(bytes.NewReader(pair[0]), bytes.NewReader(pair[1]), int64(len(pair[0])), int64(len(pair[1])))
				if err == nil {
					t.Fatalf("no error; verdict %s with %d differences", bd.Verdict, len(bd.Differences))
				}
				t.Logf("%v", err)
			}
		})
	}
}

// CompareTargets records a file it cannot compare as an error (verdict "error"), never as
// identical, and goes on with the other files.
func TestHostileTargets(t *testing.T) {
	in := hostileInputs(t)
	base := t.TempDir()
	dd, rd := filepath.Join(base, "d"), filepath.Join(base, "r")
	good := "@" + buildC(t, buyerBuild("gcc", "-g"))
	writeTree(t, dd, map[string]string{"bin/a": good, "bin/b": good})
	writeTree(t, rd, map[string]string{"bin/a": good, "bin/b": good})
	if err := os.WriteFile(filepath.Join(dd, "bin/b"), in["elf-first-half"], 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err := CompareTargets(context.Background(), dd, rd, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts.Identical != 1 || rep.Counts.Errors != 1 || len(rep.Errors) != 1 || rep.Verdict != Failed {
		t.Fatalf("counts %+v errors %v verdict %s", rep.Counts, rep.Errors, rep.Verdict)
	}
	if rep.Errors[0].Path != "bin/b" {
		t.Errorf("error on %q", rep.Errors[0].Path)
	}
}

// A debug directory entry that points into code does not set that code aside: changed
// bytes there are still reported.
func TestPEDebugDirectoryCannotHideCode(t *testing.T) {
	const cc = "x86_64-w64-mingw32-gcc"
	d, err := os.ReadFile(buildC(t, vendorBuild(cc, "-Wl,--build-id")))
	if err != nil {
		t.Fatal(err)
	}
	r := buildC(t, buyerBuild(cc, "-Wl,--build-id"))
	ps, err := newPE(&image{r: bytes.NewReader(d), size: int64(len(d))}, "delivered")
	if err != nil {
		t.Fatal(err)
	}
	var text section
	for _, s := range ps.sections {
		if s.Name == ".text" {
			text = s
		}
	}
	dir, ok := ps.rvaToOffset(ps.raw.debugRVA)
	if !ok || text.FileSize < 64 {
		t.Fatalf("no debug directory (%v) or .text (%d bytes)", ok, text.FileSize)
	}
	binary.LittleEndian.PutUint32(d[dir+16:], 64)
	binary.LittleEndian.PutUint32(d[dir+24:], uint32(text.Offset))
	for i := text.Offset + 8; i < text.Offset+24; i++ {
		d[i] ^= 0x90
	}
	p := filepath.Join(t.TempDir(), "patched.exe")
	if err := os.WriteFile(p, d, 0o644); err != nil {
		t.Fatal(err)
	}
	bd := compareFiles(t, p, r)
	dump(t, bd)
	if bd.Verdict != Differs || !has(bd.Differences, "section", "bytes of section .text differ") {
		t.Fatalf("code under a forged debug directory: %s, want .text bytes reported", bd.Verdict)
	}
}
