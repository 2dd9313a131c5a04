package pe

import (
	"encoding/binary"
	"slices"
	"testing"

	sw "github.com/saferwall/pe"
)

// flat returns a reader over a 4 KiB image whose RVAs are file offsets (all headers).
func flat(is64 bool) (*rvaReader, []byte) {
	b := make([]byte, 4096)
	return &rvaReader{data: b, sizeOfHeaders: uint32(len(b)), is64: is64, imageBase: 0x400000}, b
}

func TestDelayImports(t *testing.T) {
	for _, is64 := range []bool{true, false} {
		r, b := flat(is64)
		le := binary.LittleEndian
		copy(b[0x200:], "kensadelay.dll\x00")
		copy(b[0x402:], "kensa_delayed\x00")
		ptr := func(off int, v uint64) {
			if is64 {
				le.PutUint64(b[off:], v)
			} else {
				le.PutUint32(b[off:], uint32(v))
			}
		}
		step, ordFlag := 8, uint64(1)<<63
		if !is64 {
			step, ordFlag = 4, 1<<31
		}
		ptr(0x300, 0x400)
		ptr(0x300+step, ordFlag|5)
		// A version 2 descriptor (RVAs), then a version 1 descriptor (VAs) for the same DLL.
		le.PutUint32(b[0x100:], 1)
		le.PutUint32(b[0x104:], 0x200)
		le.PutUint32(b[0x110:], 0x300)
		le.PutUint32(b[0x120:], 0)
		le.PutUint32(b[0x124:], 0x400000+0x200)
		le.PutUint32(b[0x130:], 0x400000+0x300)
		var f Facts
		readDelayImports(r, sw.DataDirectory{VirtualAddress: 0x100, Size: 96}, &f)
		want := []string{"kensadelay.dll!kensa_delayed", "kensadelay.dll!#5", "kensadelay.dll!kensa_delayed", "kensadelay.dll!#5"}
		if !slices.Equal(f.DelayImports, want) {
			t.Errorf("64-bit %v: delay imports %q", is64, f.DelayImports)
		}
	}
}

func TestP7DebugDirectory(t *testing.T) {
	r, b := flat(true)
	le := binary.LittleEndian
	// Entry 0: CodeView NB10 with a path; entry 1: repro; entry 2 claims 4G of data.
	le.PutUint32(b[0x100+4:], 1600000000)
	le.PutUint32(b[0x100+12:], 2)
	le.PutUint32(b[0x100+16:], 40)
	le.PutUint32(b[0x100+24:], 0x800)
	copy(b[0x800:], "NB10\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00C:\\build\\x.pdb\x00")
	le.PutUint32(b[0x11c+12:], 16)
	le.PutUint32(b[0x138+12:], 2)
	le.PutUint32(b[0x138+16:], 0xffffffff)
	le.PutUint32(b[0x138+24:], 0xfff)
	var f Facts
	readDebug(r, sw.DataDirectory{VirtualAddress: 0x100, Size: 0xffffffff}, &f)
	if f.Timestamps.PDBPath != `C:\build\x.pdb` || len(f.Timestamps.Debug) != maxDebug ||
		f.Timestamps.Debug[0] != (DebugEntry{Type: "codeview", TimeDateStamp: 1600000000, Time: "2020-09-13T12:26:40Z"}) ||
		f.Timestamps.Debug[1].Type != "repro" {
		t.Fatalf("debug = %+v", f.Timestamps)
	}
}
