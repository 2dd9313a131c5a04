package pe

import (
	"encoding/binary"
	"unicode/utf16"
)

// maxVersionResource bounds the bytes of one version resource read.
const maxVersionResource = 1 << 20

// versionKeys are the StringFileInfo values reported.
var versionKeys = map[string]bool{
	"CompanyName": true, "ProductName": true, "FileDescription": true, "OriginalFilename": true,
	"InternalName": true, "FileVersion": true, "ProductVersion": true, "LegalCopyright": true,
}

// walkVersion parses the node at the start of b (a VS_VERSIONINFO, StringFileInfo,
// StringTable or String structure) and its children.
func walkVersion(b []byte, depth int, parentKey string, out map[string]string) {
	if depth > 4 || len(b) < 6 || len(out) >= maxVersionStrings {
		return
	}
	length := int(binary.LittleEndian.Uint16(b))
	valueLen := int(binary.LittleEndian.Uint16(b[2:]))
	typ := binary.LittleEndian.Uint16(b[4:])
	if length < 6 || length > len(b) {
		return
	}
	b = b[:length]
	key, pos := utf16z(b, 6)
	pos = align4(pos)
	if depth == 3 && parentKey == "StringFileInfo" {
		if versionKeys[key] && pos < len(b) {
			v, _ := utf16z(b, pos)
			out[key] = v
		}
		return
	}
	if typ == 1 {
		valueLen *= 2
	}
	if depth == 0 {
		if key != "VS_VERSION_INFO" {
			return
		}
	}
	pos = align4(pos + valueLen)
	for pos+6 <= len(b) && len(out) < maxVersionStrings {
		l := int(binary.LittleEndian.Uint16(b[pos:]))
		if l < 6 {
			return
		}
		next := key
		if depth == 2 {
			next = parentKey
		}
		walkVersion(b[pos:], depth+1, next, out)
		pos = align4(pos + l)
	}
}

// utf16z decodes a NUL-terminated little-endian UTF-16 string at b[pos:] and returns it
// with the position after the NUL.
func utf16z(b []byte, pos int) (string, int) {
	var u []uint16
	for pos+1 < len(b) {
		c := binary.LittleEndian.Uint16(b[pos:])
		pos += 2
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), pos
}

func align4(n int) int { return (n + 3) &^ 3 }
