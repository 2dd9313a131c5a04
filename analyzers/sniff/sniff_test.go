package sniff

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestDetect(t *testing.T) {
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("a"))
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("x"))
	zw.Close()
	pe := make([]byte, 0x100)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	class := []byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34}
	fat := []byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x02}

	for _, c := range []struct {
		name   string
		head   []byte
		size   int64
		want   Format
		interp string
	}{
		{"empty", nil, 0, Empty, ""},
		{"x", []byte("\x7fELF\x02\x01\x01"), 100, ELF, ""},
		{"tool.exe", pe, 0x100, PE, ""},
		{"old.com", []byte("MZ\x90\x00"), 4, MSDOS, ""},
		{"Foo.class", class, 8, JavaClass, ""},
		{"universal", fat, 8, MachOFat, ""},
		{"m", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, 8, MachO, ""},
		{"a.tar", tarBuf.Bytes(), int64(tarBuf.Len()), Tar, ""},
		{"a.gz", gz.Bytes(), int64(gz.Len()), Gzip, ""},
		{"a.zip", []byte("PK\x03\x04\x14\x00"), 6, Zip, ""},
		{"lib.jar", []byte("PK\x03\x04\x14\x00"), 6, Jar, ""},
		{"x.zip", []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00META-INF/MANIFEST.MF"), 40, Jar, ""},
		{"p.deb", []byte("!<arch>\ndebian-binary   "), 24, Deb, ""},
		{"lib.a", []byte("!<arch>\n/               "), 24, Ar, ""},
		{"p.rpm", []byte{0xed, 0xab, 0xee, 0xdb, 3, 0}, 6, RPM, ""},
		{"x.cpio", []byte("070701000000"), 12, Cpio, ""},
		{"x.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}, 6, XZ, ""},
		{"x.zst", []byte{0x28, 0xb5, 0x2f, 0xfd}, 4, Zstd, ""},
		{"x.bz2", []byte("BZh91AY&SY"), 10, Bzip2, ""},
		{"x.msi", []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, 8, MSI, ""},
		{"run", []byte("#!/bin/sh\necho hi\n"), 18, Script, "sh"},
		{"run", []byte("#!/usr/bin/env -S python3 -u\n"), 28, Script, "python3"},
		{"run", []byte("#! /usr/bin/perl -w\r\n"), 21, Script, "perl"},
		{"setup.ps1", []byte("Write-Host hi\r\n"), 15, Script, "powershell"},
		{"install.sh", []byte("echo hi\n"), 8, Script, "sh"},
		{"README", []byte("plain words\n"), 12, Text, ""},
		{"blob", []byte{1, 2, 3, 0, 5}, 5, Data, ""},
		{"notes.sh", []byte{0xff, 0x00, 0x10}, 3, Data, ""},
	} {
		got := Detect(c.head, c.name, c.size)
		if got.Format != c.want || got.Interpreter != c.interp {
			t.Errorf("%s: got %s (%q), want %s (%q)", c.name, got.Format, got.Interpreter, c.want, c.interp)
		}
	}
}

// TestDetectRealBinaries checks the sniffer on binaries the toolchains on this machine
// produce: ELF from gcc and Go, PE and Mach-O from Go cross-compilation.
func TestDetectRealBinaries(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644)
	for _, c := range []struct {
		goos, goarch string
		want         Format
	}{
		{"linux", "amd64", ELF}, {"windows", "amd64", PE}, {"darwin", "arm64", MachO}, {"linux", "arm64", ELF},
	} {
		out := filepath.Join(dir, c.goos+"-"+c.goarch)
		cmd := exec.Command("go", "build", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS="+c.goos, "GOARCH="+c.goarch, "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s/%s: %v\n%s", c.goos, c.goarch, err, b)
		}
		b, _ := os.ReadFile(out)
		if got := Detect(b[:min(len(b), HeadSize)], filepath.Base(out), int64(len(b))).Format; got != c.want {
			t.Errorf("%s/%s: got %s, want %s", c.goos, c.goarch, got, c.want)
		}
	}
	c := filepath.Join(dir, "c")
	os.WriteFile(c+".c", []byte("int main(void){return 0;}\n"), 0o644)
	if b, err := exec.Command("gcc", "-o", c, c+".c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	b, _ := os.ReadFile(c)
	if got := Detect(b[:HeadSize], "c", int64(len(b))).Format; got != ELF {
		t.Errorf("gcc output: got %s", got)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("#!/usr/bin/env python3\n"), "x")
	f.Add([]byte("MZ\x00\x00"), "a.exe")
	f.Add([]byte("PK\x03\x04"), "a.jar")
	f.Fuzz(func(t *testing.T, head []byte, name string) {
		if len(head) > HeadSize {
			head = head[:HeadSize]
		}
		a := Detect(head, name, int64(len(head)))
		if b := Detect(head, name, int64(len(head))); a != b {
			t.Fatal("not deterministic")
		}
		if a.Format == "" {
			t.Fatal("no format")
		}
	})
}
