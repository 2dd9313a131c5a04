package pe

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	sw "github.com/saferwall/pe"
)

func dotnet(p *sw.File, f *Facts) {
	if !p.HasCLR {
		return
	}
	f.DotNet.Present = true
	f.DotNet.RuntimeVersion = strings.TrimRight(strings.ToValidUTF8(p.CLR.MetadataHeader.Version, "\uFFFD"), "\x00")
	t, ok := p.CLR.MetadataTables[sw.Assembly]
	if !ok || t == nil {
		return
	}
	rows, ok := t.Content.([]sw.AssemblyTableRow)
	if !ok || len(rows) == 0 {
		return
	}
	r := rows[0]
	strs := p.CLR.MetadataStreams["#Strings"]
	f.DotNet.AssemblyName = heapString(strs, r.Name)
	f.DotNet.Culture = heapString(strs, r.Culture)
	f.DotNet.AssemblyVersion = fmt.Sprintf("%d.%d.%d.%d", r.MajorVersion, r.MinorVersion, r.BuildNumber, r.RevisionNumber)
	f.DotNet.PublicKeyToken = publicKeyToken(heapBlob(p.CLR.MetadataStreams["#Blob"], r.PublicKey))
}

// publicKeyToken is the last 8 bytes of the SHA-1 of key in reverse order, in hex (ECMA-335
// II.6.2.1.3); empty for an empty key.
func publicKeyToken(key []byte) string {
	if len(key) == 0 {
		return ""
	}
	sum := sha1.Sum(key)
	tok := make([]byte, 8)
	for i := range tok {
		tok[i] = sum[len(sum)-1-i]
	}
	return hex.EncodeToString(tok)
}

// heapString reads the NUL-terminated UTF-8 string at index i of the #Strings heap.
func heapString(heap []byte, i uint32) string {
	if i == 0 || int64(i) >= int64(len(heap)) {
		return ""
	}
	s := heap[i:]
	end := 0
	for end < len(s) && s[end] != 0 && end < 1024 {
		end++
	}
	return strings.ToValidUTF8(string(s[:end]), "\uFFFD")
}

// heapBlob reads the blob at index i of the #Blob heap (ECMA-335 II.24.2.4 compressed
// length prefix).
func heapBlob(heap []byte, i uint32) []byte {
	if i == 0 || int64(i) >= int64(len(heap)) {
		return nil
	}
	b := heap[i:]
	var n, hdr int
	switch {
	case b[0]&0x80 == 0:
		n, hdr = int(b[0]), 1
	case b[0]&0xc0 == 0x80 && len(b) >= 2:
		n, hdr = int(b[0]&0x3f)<<8|int(b[1]), 2
	case b[0]&0xe0 == 0xc0 && len(b) >= 4:
		n, hdr = int(b[0]&0x1f)<<24|int(b[1])<<16|int(b[2])<<8|int(b[3]), 4
	default:
		return nil
	}
	if n > len(b)-hdr {
		return nil
	}
	return b[hdr : hdr+n]
}
