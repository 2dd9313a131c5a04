package macho

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Code signing blob magics (xnu osfmk/kern/cs_blobs.h). Blobs are big-endian.
const (
	csMagicEmbeddedSignature = 0xfade0cc0
	csMagicCodeDirectory     = 0xfade0c02
	csMagicEntitlements      = 0xfade7171
	csMagicDEREntitlements   = 0xfade7172
	csMagicBlobWrapper       = 0xfade0b01
)

// codeDirectoryHeader is how much of a CodeDirectory's fixed header is read: up to and
// including execSegFlags (version 0x20400).
const codeDirectoryHeader = 88

// readAt reads n bytes at off of the image; n must already be bounded.
func (im *image) readAt(off int64, n int) ([]byte, error) {
	if n < 0 || off < 0 || off > im.size || int64(n) > im.size-off {
		return nil, io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	if _, err := im.r.ReadAt(b, off); err != nil && err != io.EOF {
		return nil, err
	} else if err == io.EOF {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

// codeSignature decodes the SuperBlob of size bytes at off in the image.
func (im *image) codeSignature(off, size uint32) {
	cs := &CodeSignature{Offset: off, Size: size}
	im.arch.CodeSignature = cs
	avail := int64(size)
	if int64(off) > im.size {
		im.anomaly("code signature offset %d lies past the end of the image (%d bytes)", off, im.size)
		return
	}
	if int64(off)+avail > im.size {
		im.anomaly("code signature (offset %d, size %d) extends past the end of the image (%d bytes)", off, size, im.size)
		avail = im.size - int64(off)
	}
	if avail < 12 {
		im.anomaly("code signature is too short for a SuperBlob (%d bytes)", avail)
		return
	}
	hdr, err := im.readAt(int64(off), 12)
	if err != nil {
		im.anomaly("code signature could not be read: %v", err)
		return
	}
	magic, length, count := binary.BigEndian.Uint32(hdr), binary.BigEndian.Uint32(hdr[4:]), binary.BigEndian.Uint32(hdr[8:])
	if magic != csMagicEmbeddedSignature {
		im.anomaly("code signature does not start with an embedded-signature SuperBlob (magic %#x)", magic)
		return
	}
	if int64(length) > avail {
		im.anomaly("code signature SuperBlob length %d exceeds the signature area (%d bytes)", length, avail)
	} else {
		avail = int64(length)
	}
	if avail < 12 {
		im.anomaly("code signature SuperBlob length %d is too short for its header", length)
		return
	}
	n := int64(count)
	if n > maxBlobs {
		im.anomaly("code signature SuperBlob declares %d blobs; only the first %d were read", count, maxBlobs)
		n = maxBlobs
	}
	if 12+n*8 > avail {
		im.anomaly("code signature SuperBlob index (%d entries) extends past the SuperBlob", count)
		n = (avail - 12) / 8
	}
	index, err := im.readAt(int64(off)+12, int(n*8))
	if err != nil {
		im.anomaly("code signature index could not be read: %v", err)
		return
	}
	for i := int64(0); i < n; i++ {
		slot, boff := binary.BigEndian.Uint32(index[i*8:]), int64(binary.BigEndian.Uint32(index[i*8+4:]))
		name := blobSlotName(slot)
		cs.Blobs = append(cs.Blobs, name)
		if boff+8 > avail {
			im.anomaly("code signature blob %d (%s) at offset %d lies outside the SuperBlob", i, name, boff)
			continue
		}
		bh, err := im.readAt(int64(off)+boff, 8)
		if err != nil {
			im.anomaly("code signature blob %d (%s) could not be read: %v", i, name, err)
			continue
		}
		bmagic, blen := binary.BigEndian.Uint32(bh), int64(binary.BigEndian.Uint32(bh[4:]))
		if blen < 8 || boff+blen > avail {
			im.anomaly("code signature blob %d (%s) length %d does not fit in the SuperBlob", i, name, blen)
			blen = max(8, avail-boff)
		}
		at := int64(off) + boff
		switch {
		case slot == 0:
			if bmagic != csMagicCodeDirectory {
				im.anomaly("code signature slot 0 holds magic %#x, not a CodeDirectory", bmagic)
				continue
			}
			if cs.CodeDirectory != nil {
				im.anomaly("code signature has more than one primary CodeDirectory")
				continue
			}
			cs.CodeDirectory = im.codeDirectory(at, blen)
		case slot >= 0x1000 && slot < 0x1005:
			cs.AlternateCodeDirectories++
		case slot == 5:
			if bmagic != csMagicEntitlements {
				im.anomaly("code signature entitlements slot holds magic %#x", bmagic)
				continue
			}
			im.entitlements(cs, at+8, blen-8)
		case slot == 7:
			if bmagic != csMagicDEREntitlements {
				im.anomaly("code signature DER entitlements slot holds magic %#x", bmagic)
				continue
			}
			cs.DEREntitlements, cs.DEREntitlementsSize = true, int(blen-8)
		case slot == 0x10000:
			if bmagic != csMagicBlobWrapper {
				im.anomaly("code signature CMS slot holds magic %#x", bmagic)
				continue
			}
			cs.CMSSignature, cs.CMSSignatureSize = true, int(blen-8)
		}
	}
}

// codeDirectory decodes the CodeDirectory of n bytes at off.
func (im *image) codeDirectory(off, n int64) *CodeDirectory {
	if n < 44 {
		im.anomaly("CodeDirectory is too short (%d bytes)", n)
		return nil
	}
	b, err := im.readAt(off, int(min(n, codeDirectoryHeader)))
	if err != nil {
		im.anomaly("CodeDirectory could not be read: %v", err)
		return nil
	}
	be := binary.BigEndian
	ver := be.Uint32(b[8:])
	cd := &CodeDirectory{
		Version:      hex(ver),
		HashSize:     int(b[36]),
		HashType:     hashTypeName(b[37]),
		SpecialSlots: be.Uint32(b[24:]),
		CodeSlots:    be.Uint32(b[28:]),
		CodeLimit:    uint64(be.Uint32(b[32:])),
		Flags:        bitNames(be.Uint32(b[12:]), csFlagNames),
	}
	if ps := b[39]; ps > 0 && ps < 32 {
		cd.PageSize = 1 << ps
	} else if ps >= 32 {
		im.anomaly("CodeDirectory page size exponent %d is out of range", ps)
	}
	cd.Identifier = im.cdString(off, n, be.Uint32(b[20:]), "identifier")
	if ver >= 0x20200 && len(b) >= 52 {
		if t := be.Uint32(b[48:]); t != 0 {
			cd.TeamID = im.cdString(off, n, t, "team identifier")
		}
	}
	if ver >= 0x20300 && len(b) >= 64 {
		if l := be.Uint64(b[56:]); l != 0 {
			cd.CodeLimit = l
		}
	}
	if ver >= 0x20400 && len(b) >= 88 {
		if f := be.Uint64(b[80:]); f != 0 {
			cd.ExecSegFlags = bitNames(uint32(f), execSegFlagNames)
			if f>>32 != 0 {
				cd.ExecSegFlags = append(cd.ExecSegFlags, hex(f&^0xffffffff))
			}
		}
	}
	hashOff, hashSize := int64(be.Uint32(b[16:])), int64(cd.HashSize)
	if hashOff > n || (int64(cd.CodeSlots)*hashSize > n-hashOff) || int64(cd.SpecialSlots)*hashSize > hashOff {
		im.anomaly("CodeDirectory hash slots (%d code, %d special, offset %d) do not fit in its %d bytes", cd.CodeSlots, cd.SpecialSlots, hashOff, n)
	}
	return cd
}

// cdString reads the NUL-terminated string at rel within the CodeDirectory of n bytes at
// off.
func (im *image) cdString(off, n int64, rel uint32, what string) string {
	if int64(rel) >= n || rel < 44 {
		im.anomaly("CodeDirectory %s offset %d lies outside it", what, rel)
		return ""
	}
	b, err := im.readAt(off+int64(rel), int(min(n-int64(rel), maxStringBytes)))
	if err != nil {
		im.anomaly("CodeDirectory %s could not be read: %v", what, err)
		return ""
	}
	if bytes.IndexByte(b, 0) < 0 {
		im.anomaly("CodeDirectory %s is not NUL-terminated within %d bytes", what, len(b))
	}
	return cstring(b)
}

// entitlements reads the XML entitlements payload of n bytes at off.
func (im *image) entitlements(cs *CodeSignature, off, n int64) {
	if n > maxEntitlementsBytes {
		cs.EntitlementsTruncated = true
		n = maxEntitlementsBytes
	}
	b, err := im.readAt(off, int(n))
	if err != nil {
		im.anomaly("entitlements could not be read: %v", err)
		return
	}
	cs.Entitlements = strings.ToValidUTF8(string(b), "\uFFFD")
	keys, err := plistKeys(b)
	cs.EntitlementKeys = keys
	if err != nil && !cs.EntitlementsTruncated {
		im.anomaly("entitlements are not a well-formed property list: %v", err)
	}
}

// plistKeys returns the keys of the top-level dictionary of an XML property list.
func plistKeys(b []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	// The property list DOCTYPE names no entities kensa needs; unknown ones are errors.
	var keys []string
	depth, inKey := 0, false
	var key strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return keys, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return keys, fmt.Errorf("nesting deeper than 64 levels")
			}
			if depth == 3 && t.Name.Local == "key" {
				inKey = true
				key.Reset()
			}
		case xml.EndElement:
			if inKey && depth == 3 {
				inKey = false
				if len(keys) < maxEntitlementKeys {
					keys = append(keys, key.String())
				}
			}
			depth--
		case xml.CharData:
			if inKey && key.Len() < maxStringBytes {
				key.Write(t)
			}
		}
	}
}
