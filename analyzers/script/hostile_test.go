package script

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// TestRPMHostile cuts and corrupts a real rpm: the analyzer returns an error that says what
// is wrong, never a panic, and never scriptlets it did not read.
func TestRPMHostile(t *testing.T) {
	lim0 := limits.Default()
	pkg, err := os.ReadFile(BuildRPM(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{4, 96, 100, 200, 1000, len(pkg) / 2} {
		f, err := analyze(t, "cut.rpm", pkg[:n])
		if err == nil || !strings.Contains(err.Error(), "rpm") {
			t.Errorf("rpm cut to %d bytes: error %v, want one about the rpm header", n, err)
		}
		if len(f.InstallHooks) != 0 {
			t.Errorf("rpm cut to %d bytes: %d hooks", n, len(f.InstallHooks))
		}
	}
	// A damaged payload hides nothing: the scriptlets live in the header, which is read
	// without the payload.
	hr := bytes.NewReader(pkg)
	if _, err := archive.ReadRPMHeader(hr, &lim0); err != nil || hr.Len() < 16 {
		t.Fatalf("reading the header: %v, %d payload bytes", err, hr.Len())
	}
	damaged := bytes.Clone(pkg)
	clear(damaged[len(damaged)-hr.Len():])
	if f, err := analyze(t, "damaged-payload.rpm", damaged); err != nil || len(f.InstallHooks) == 0 {
		t.Errorf("damaged payload: %d hooks, error %v", len(f.InstallHooks), err)
	}
	// A main header claiming more data than the rpm-header limit.
	lim := limits.Default()
	lim.RPMHeader = 1024
	a := artifact("small-limit.rpm", pkg)
	a.Limits = &lim
	if _, err := New().Analyze(context.Background(), a); !limits.IsLimit(err) {
		t.Errorf("rpm header past the limit: error %v, want a limit error", err)
	}
	// Flipped bytes throughout the headers.
	for i := 96; i < min(len(pkg), 4096); i += 37 {
		bad := bytes.Clone(pkg)
		bad[i] ^= 0xff
		a := artifact("flip.rpm", bad)
		if _, err := New().Analyze(context.Background(), a); err != nil && errors.Is(err, io.ErrShortBuffer) {
			t.Errorf("flip at %d: %v", i, err)
		}
	}
}

func TestHostileText(t *testing.T) {
	for name, content := range map[string][]byte{
		"odd-utf16.ps1":  {0xff, 0xfe, 'a', 0, 'b'},
		"lone-surrogate": append([]byte{0xff, 0xfe}, 0x00, 0xd8, '\n', 0, 0x00, 0xdc),
		"nul.sh":         []byte("#!/bin/sh\x00\x00\ncurl x | sh\x00\n"),
		"shebang-only":   []byte("#!"),
		"cr-only.sh":     []byte("#!/bin/sh\rcurl x | sh\r"),
		"invalid.sh":     []byte("#!/bin/\xff\xfe\n\xc3(\n"),
		"backslashes.sh": []byte("#!/bin/sh\n" + strings.Repeat("echo \\\n", 10000) + "| sh\n"),
	} {
		a := artifact("x/"+name, content)
		a.Format = sniff.Script
		v, err := New().Analyze(context.Background(), a)
		f, ok := v.(*Facts)
		if !ok {
			t.Errorf("%s: facts %T, error %v", name, v, err)
			continue
		}
		if f.ScannedBytes != int64(len(content)) {
			t.Errorf("%s: scanned %d of %d bytes", name, f.ScannedBytes, len(content))
		}
		if name == "odd-utf16.ps1" && (err == nil || f.BOM != "utf-16le") {
			t.Errorf("%s: error %v bom %q, want an error about the cut character", name, err, f.BOM)
		}
	}
}

func TestManifestTooLarge(t *testing.T) {
	a := &analyzers.Artifact{Path: "x/package.json", Format: sniff.Text, Size: maxManifest + 1,
		Content: io.NewSectionReader(zeroReader{}, 0, maxManifest+1)}
	v, err := New().Analyze(context.Background(), a)
	if err == nil || !strings.Contains(err.Error(), "larger than") || v == nil {
		t.Errorf("oversized package.json: facts %v error %v", v, err)
	}
}

// TestScanCap: a script larger than the scan cap is read up to the cap and says so.
func TestScanCap(t *testing.T) {
	defer func(old int64) { maxScan = old }(maxScan)
	maxScan = 1 << 20
	size := maxScan + 1000
	a := &analyzers.Artifact{Path: "x/big.sh", Format: sniff.Script, Size: size,
		Content: io.NewSectionReader(lineReader{}, 0, size)}
	v, err := New().Analyze(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	f := v.(*Facts)
	if !f.Truncated || f.ScannedBytes != maxScan || f.Lines != maxScan/8 {
		t.Errorf("truncated %v scanned %d lines %d, want true %d %d", f.Truncated, f.ScannedBytes, f.Lines, maxScan, maxScan/8)
	}
}

type zeroReader struct{}

func (zeroReader) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// lineReader is an endless text of "echo hi\n".
type lineReader struct{}

func (lineReader) ReadAt(p []byte, off int64) (int, error) {
	const l = "echo hi\n"
	for i := range p {
		p[i] = l[(off+int64(i))%int64(len(l))]
	}
	return len(p), nil
}
