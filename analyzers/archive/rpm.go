package archive

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"kensa.dev/kensa/internal/limits"
)

// RPMHeader is what the lead, the signature header and the main header of an rpm package
// say about it.
type RPMHeader struct {
	// LeadName is the name in the (legacy) lead; Source reports a source package.
	LeadName string
	Source   bool

	Name, Version, Release, Arch, OS string
	// Epoch is the package epoch; HasEpoch tells an epoch of 0 from none.
	Epoch    int
	HasEpoch bool
	// SourceRPM names the source package a binary package was built from.
	SourceRPM string
	License   string
	Vendor    string
	BuildHost string
	BuildTime time.Time

	// PayloadFormat is the payload format tag ("cpio"), PayloadCompressor and
	// PayloadFlags the compressor tags as stored. PayloadCompression is the compression
	// the payload's first bytes show, which is what the reader uses.
	PayloadFormat      string
	PayloadCompressor  string
	PayloadFlags       string
	PayloadCompression Compression
	// PayloadDigest is the digest of the compressed payload the header records (hex), and
	// PayloadDigestAlgo its OpenPGP hash algorithm number; the reader verifies it at the
	// end of the payload.
	PayloadDigest     string
	PayloadDigestAlgo int

	// Scriptlets are the scripts rpm runs when the package is installed, removed or
	// verified, and the triggers.
	Scriptlets []RPMScriptlet
	// Files is the file list of the header, in header order.
	Files []RPMFile
	// FileDigestAlgo is the OpenPGP hash algorithm number of the file digests (1 MD5,
	// 2 SHA-1, 8 SHA-256, 9 SHA-384, 10 SHA-512, 11 SHA-224); MD5 when the tag is absent.
	FileDigestAlgo int

	// SignatureTags lists the tags of the signature header in stored order (267 DSA and
	// 268 RSA header signatures, 1002 PGP and 1005 GPG header+payload signatures, 269 and
	// 273 header digests, …). The signatures are not verified here.
	SignatureTags []int
	// HeaderSHA256 is the SHA-256 of the main header as stored (hex), which the signature
	// header's tag 273 must equal; NewRPM checks that it does when the tag is present.
	HeaderSHA256 string

	// Anomalies are oddities of the package: a compressor tag that does not match the
	// payload, tags in the wrong header, payload entries the header does not list, header
	// files missing from the payload. Those found while reading the payload are appended
	// as they are found.
	Anomalies []string
}

// RPMScriptlet is one script of an rpm package.
type RPMScriptlet struct {
	// Name is "prein", "postin", "preun", "postun", "pretrans", "posttrans",
	// "verifyscript", "trigger", "filetrigger" or "transfiletrigger".
	Name string
	// Interpreter is the program and arguments that run the script ("/bin/sh" when the
	// header names none), or a Lua marker "<lua>".
	Interpreter []string
	// Body is the script text; empty when the interpreter alone is run.
	Body string
}

// RPMFile is one file of an rpm header's file list.
type RPMFile struct {
	// Path is the absolute path the file installs to.
	Path string
	Type Type
	// Mode holds the permission, setuid, setgid and sticky bits.
	Mode   fs.FileMode
	Size   int64
	Digest string // hex, in FileDigestAlgo
	LinkTo string // symbolic link target
	User   string
	Group  string
	// Flags are the rpm file flags (1 config, 2 doc, 64 ghost, …).
	Flags uint32
	// Caps is the file capability set in cap_to_text form, if any.
	Caps string
}

// RPMFileGhost is the file flag of files the payload does not carry.
const RPMFileGhost = 1 << 6

const (
	rpmLeadLen       = 96
	rpmHeaderTagsMax = 0xffff     // rpm's HEADER_TAGS_MAX
	rpmHeaderDataMax = 0x0fffffff // rpm's HEADER_DATA_MAX
)

// Tag numbers (rpmtag.h).
const (
	tagName          = 1000
	tagVersion       = 1001
	tagRelease       = 1002
	tagEpoch         = 1003
	tagBuildTime     = 1006
	tagBuildHost     = 1007
	tagVendor        = 1011
	tagLicense       = 1014
	tagOS            = 1021
	tagArch          = 1022
	tagOldFilenames  = 1027
	tagFileSizes     = 1028
	tagFileModes     = 1030
	tagFileDigests   = 1035
	tagFileLinktos   = 1036
	tagFileFlags     = 1037
	tagFileUsername  = 1039
	tagFileGroupname = 1040
	tagSourceRPM     = 1044
	tagDirIndexes    = 1116
	tagBasenames     = 1117
	tagDirnames      = 1118
	tagPayloadFormat = 1124
	tagPayloadComp   = 1125
	tagPayloadFlags  = 1126
	tagLongFileSizes = 5008
	tagFileCaps      = 5010
	tagFileDigestAlg = 5011
	tagPayloadDigest = 5092
	tagPayloadDigAlg = 5093

	sigTagSHA1   = 269
	sigTagSHA256 = 273
	sigTagDSA    = 267
	sigTagRSA    = 268
	sigTagPGP    = 1002
	sigTagGPG    = 1005
)

var rpmScripts = []struct {
	name         string
	script, prog uint32
	array        bool
}{
	{"prein", 1023, 1085, false},
	{"postin", 1024, 1086, false},
	{"preun", 1025, 1087, false},
	{"postun", 1026, 1088, false},
	{"pretrans", 1151, 1153, false},
	{"posttrans", 1152, 1154, false},
	{"verifyscript", 1079, 1091, false},
	{"trigger", 1065, 1092, true},
	{"filetrigger", 5066, 5067, true},
	{"transfiletrigger", 5076, 5077, true},
}

// rpm tag data types.
const (
	rpmNull = iota
	rpmChar
	rpmInt8
	rpmInt16
	rpmInt32
	rpmInt64
	rpmString
	rpmBin
	rpmStringArray
	rpmI18NString
)

var rpmTypeSize = [...]int64{0, 1, 1, 2, 4, 8, 1, 1, 1, 1}

type rpmTag struct {
	tag, typ uint32
	off      int64
	count    int64
}

type rpmHdr struct {
	which string // "signature" or "main"
	raw   []byte // the header as stored, from its magic to the end of its store
	store []byte
	tags  []rpmTag
	by    map[uint32]int
	lim   *limits.Limits
}

// NewRPM reads the lead, the signature header and the main header of the rpm package r,
// and returns a Reader over the cpio archive in its payload, with the header's contents.
//
// Every count, size and offset of the headers is checked before use: an index whose
// entries and data exceed lim.RPMHeader (both headers together) is a *limits.Error;
// negative counts, data outside the store, misaligned numbers, unknown types, duplicate
// tags, more than rpm's own maximums (65535 tags, 256 MiB of data) and negative
// DIRINDEXES are *FormatErrors (R1, R2). Arrays that describe files are bounded by
// lim.Entries. A SHA-256 or SHA-1 header digest in the signature header must match the
// main header (ErrChecksum).
//
// The payload compression is detected from its first bytes; a PAYLOADCOMPRESSOR tag that
// says otherwise is an anomaly (R5). Decompression is bounded as by Decompress (with
// budget). While entries are read the reader checks them against the header: an entry
// the header does not list, or whose size or mode differs, carries an anomaly; content
// whose digest differs from the header's fails Read with ErrChecksum; at the end of the
// payload the payload digest is verified (ErrChecksum from Next) and header files missing
// from the payload are added to the header's anomalies.
func NewRPM(r io.Reader, lim *limits.Limits, budget *limits.Budget) (Reader, *RPMHeader, error) {
	src := &countingReader{r: r}
	h, err := readRPMHeaders(src, lim)
	if err != nil {
		return nil, nil, err
	}
	rr, err := newRPMPayload(src, h, lim, budget)
	if err != nil {
		return nil, nil, err
	}
	return rr, h, nil
}

// ReadRPMHeader reads the lead and the two headers of an rpm package and stops before
// its payload: what the package declares (its name, scriptlets and file list) can be read
// even when the payload is damaged or in a format kensa does not open.
func ReadRPMHeader(r io.Reader, lim *limits.Limits) (*RPMHeader, error) {
	return readRPMHeaders(&countingReader{r: r}, lim)
}

// readRPMHeaders reads the lead, the signature header and the main header from src.
func readRPMHeaders(src *countingReader, lim *limits.Limits) (*RPMHeader, error) {
	lead := make([]byte, rpmLeadLen)
	if _, err := io.ReadFull(src, lead); err != nil {
		return nil, formatErr("rpm", 0, "too short for an rpm lead", io.ErrUnexpectedEOF)
	}
	if !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, formatErr("rpm", 0, "not an rpm package (no lead magic)", nil)
	}
	if lead[4] != 3 && lead[4] != 4 {
		return nil, formatErr("rpm", 4, fmt.Sprintf("rpm format version %d.%d is not supported", lead[4], lead[5]), ErrUnsupported)
	}
	if st := binary.BigEndian.Uint16(lead[78:]); st != 5 {
		return nil, formatErr("rpm", 78, fmt.Sprintf("signature type %d; only header-style signatures (5) exist since rpm 3", st), ErrUnsupported)
	}
	h := &RPMHeader{
		LeadName: string(bytes.TrimRight(lead[10:76], "\x00")),
		Source:   binary.BigEndian.Uint16(lead[6:]) == 1,
	}
	if i := strings.IndexByte(h.LeadName, 0); i >= 0 {
		h.LeadName = h.LeadName[:i]
	}
	allowance := lim.RPMHeader
	sig, err := readRPMHeader(src, "signature", lim, &allowance)
	if err != nil {
		return nil, err
	}
	if pad := (8 - len(sig.store)%8) % 8; pad > 0 {
		if err := skip(src, int64(pad)); err != nil {
			return nil, formatErr("rpm", src.n, "truncated signature header padding", io.ErrUnexpectedEOF)
		}
	}
	mainOff := src.n
	main, err := readRPMHeader(src, "main", lim, &allowance)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(main.raw)
	h.HeaderSHA256 = hex.EncodeToString(sum[:])
	if err := h.fromHeaders(sig, main, mainOff); err != nil {
		return nil, err
	}
	return h, nil
}

func rpmErr(off int64, reason string, err error) error { return formatErr("rpm", off, reason, err) }

func readRPMHeader(r *countingReader, which string, lim *limits.Limits, allowance *int64) (*rpmHdr, error) {
	start := r.n
	intro := make([]byte, 16)
	if _, err := io.ReadFull(r, intro); err != nil {
		return nil, rpmErr(start, "truncated "+which+" header", io.ErrUnexpectedEOF)
	}
	if !bytes.Equal(intro[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return nil, rpmErr(start, which+" header has no header magic", nil)
	}
	il := int64(int32(binary.BigEndian.Uint32(intro[8:])))
	dl := int64(int32(binary.BigEndian.Uint32(intro[12:])))
	switch {
	case il < 0 || dl < 0:
		return nil, rpmErr(start, fmt.Sprintf("%s header declares %d tags and %d bytes of data: negative", which, il, dl), nil)
	case il == 0:
		return nil, rpmErr(start, which+" header has no tags", nil)
	case il > rpmHeaderTagsMax || dl > rpmHeaderDataMax:
		return nil, rpmErr(start, fmt.Sprintf("%s header declares %d tags and %d bytes of data, more than rpm accepts", which, il, dl), nil)
	}
	size := il*16 + dl
	if size > *allowance {
		return nil, &limits.Error{Limit: "rpm-header", Value: lim.RPMHeader,
			What: fmt.Sprintf("rpm %s header of %d bytes (with the headers before it)", which, size+lim.RPMHeader-*allowance)}
	}
	*allowance -= size
	body, err := readAllBounded(r, size)
	if err != nil {
		return nil, rpmErr(r.n, "truncated "+which+" header", io.ErrUnexpectedEOF)
	}
	h := &rpmHdr{which: which, raw: append(intro, body...), store: body[il*16:], by: make(map[uint32]int, il), lim: lim}
	h.tags = make([]rpmTag, il)
	for i := range h.tags {
		e := body[i*16 : i*16+16]
		t := rpmTag{
			tag:   binary.BigEndian.Uint32(e),
			typ:   binary.BigEndian.Uint32(e[4:]),
			off:   int64(int32(binary.BigEndian.Uint32(e[8:]))),
			count: int64(int32(binary.BigEndian.Uint32(e[12:]))),
		}
		where := start + 16 + int64(i)*16
		if t.typ > rpmI18NString {
			return nil, rpmErr(where, fmt.Sprintf("%s header tag %d has unknown type %d", which, t.tag, t.typ), nil)
		}
		if t.off < 0 || t.off > dl || t.count <= 0 || t.count > dl {
			return nil, rpmErr(where, fmt.Sprintf("%s header tag %d has offset %d and count %d outside its %d-byte store", which, t.tag, t.off, t.count, dl), nil)
		}
		if sz := rpmTypeSize[t.typ]; t.off+t.count*sz > dl {
			return nil, rpmErr(where, fmt.Sprintf("%s header tag %d runs past the end of its store", which, t.tag), nil)
		} else if sz > 1 && t.off%sz != 0 {
			return nil, rpmErr(where, fmt.Sprintf("%s header tag %d is not aligned", which, t.tag), nil)
		}
		if t.typ == rpmString && t.count != 1 {
			return nil, rpmErr(where, fmt.Sprintf("%s header tag %d is a string with count %d", which, t.tag, t.count), nil)
		}
		if _, dup := h.by[t.tag]; dup {
			return nil, rpmErr(where, fmt.Sprintf("%s header has tag %d twice", which, t.tag), nil)
		}
		h.by[t.tag] = i
		h.tags[i] = t
	}
	return h, nil
}

func (h *rpmHdr) get(tag uint32) (rpmTag, bool) {
	i, ok := h.by[tag]
	if !ok {
		return rpmTag{}, false
	}
	return h.tags[i], true
}

func (h *rpmHdr) err(t rpmTag, reason string) error {
	return rpmErr(-1, fmt.Sprintf("%s header tag %d: %s", h.which, t.tag, reason), nil)
}

// strs returns the strings of a string, string array or i18n string tag. Arrays are
// bounded by lim.Entries.
func (h *rpmHdr) strs(tag uint32) ([]string, bool, error) {
	t, ok := h.get(tag)
	if !ok {
		return nil, false, nil
	}
	if t.typ != rpmString && t.typ != rpmStringArray && t.typ != rpmI18NString {
		return nil, true, h.err(t, "is not a string")
	}
	if t.count > h.lim.Entries {
		return nil, true, &limits.Error{Limit: "entries", Value: h.lim.Entries, What: fmt.Sprintf("rpm %s header tag %d with %d strings", h.which, tag, t.count)}
	}
	out := make([]string, 0, t.count)
	data := h.store[t.off:]
	for i := int64(0); i < t.count; i++ {
		end := bytes.IndexByte(data, 0)
		if end < 0 {
			return nil, true, h.err(t, "string runs past the end of the store")
		}
		out = append(out, string(data[:end]))
		data = data[end+1:]
	}
	return out, true, nil
}

func (h *rpmHdr) str(tag uint32) (string, error) {
	s, ok, err := h.strs(tag)
	if err != nil || !ok {
		return "", err
	}
	return s[0], nil
}

// ints returns the values of an integer tag, sign-extended from INT32 (rpm stores indexes
// as INT32, and a negative one must be seen as negative).
func (h *rpmHdr) ints(tag uint32) ([]int64, bool, error) {
	t, ok := h.get(tag)
	if !ok {
		return nil, false, nil
	}
	if t.typ < rpmChar || t.typ > rpmInt64 {
		return nil, true, h.err(t, "is not an integer")
	}
	if t.count > h.lim.Entries {
		return nil, true, &limits.Error{Limit: "entries", Value: h.lim.Entries, What: fmt.Sprintf("rpm %s header tag %d with %d values", h.which, tag, t.count)}
	}
	sz := rpmTypeSize[t.typ]
	data := h.store[t.off : t.off+t.count*sz]
	out := make([]int64, t.count)
	for i := range out {
		b := data[int64(i)*sz:]
		switch t.typ {
		case rpmChar, rpmInt8:
			out[i] = int64(b[0])
		case rpmInt16:
			out[i] = int64(binary.BigEndian.Uint16(b))
		case rpmInt32:
			out[i] = int64(int32(binary.BigEndian.Uint32(b)))
		case rpmInt64:
			out[i] = int64(binary.BigEndian.Uint64(b))
		}
	}
	return out, true, nil
}

func (h *rpmHdr) int(tag uint32) (int64, bool, error) {
	v, ok, err := h.ints(tag)
	if err != nil || !ok {
		return 0, ok, err
	}
	return v[0], true, nil
}

// fromHeaders fills h from the two headers.
func (h *RPMHeader) fromHeaders(sig, main *rpmHdr, mainOff int64) error {
	var firstErr error
	str := func(tag uint32) string {
		s, err := main.str(tag)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return s
	}
	h.Name, h.Version, h.Release = str(tagName), str(tagVersion), str(tagRelease)
	h.Arch, h.OS, h.SourceRPM = str(tagArch), str(tagOS), str(tagSourceRPM)
	h.License, h.Vendor, h.BuildHost = str(tagLicense), str(tagVendor), str(tagBuildHost)
	h.PayloadFormat, h.PayloadCompressor, h.PayloadFlags = str(tagPayloadFormat), str(tagPayloadComp), str(tagPayloadFlags)
	if firstErr != nil {
		return firstErr
	}
	if v, ok, err := main.int(tagEpoch); err != nil {
		return err
	} else if ok {
		h.Epoch, h.HasEpoch = int(v), true
	}
	if v, ok, err := main.int(tagBuildTime); err != nil {
		return err
	} else if ok {
		h.BuildTime = time.Unix(int64(uint32(v)), 0).UTC()
	}
	if d, ok, err := main.strs(tagPayloadDigest); err != nil {
		return err
	} else if ok {
		h.PayloadDigest = d[0]
		algo, _, err := main.int(tagPayloadDigAlg)
		if err != nil {
			return err
		}
		h.PayloadDigestAlgo = int(algo)
	}
	if err := h.scriptlets(main); err != nil {
		return err
	}
	if err := h.files(main); err != nil {
		return err
	}

	for _, t := range sig.tags {
		h.SignatureTags = append(h.SignatureTags, int(t.tag))
		if !isSignatureTag(t.tag) {
			h.Anomalies = append(h.Anomalies, fmt.Sprintf("signature header carries tag %d, which is not a signature tag", t.tag))
		}
	}
	for _, t := range main.tags {
		if isSignatureTag(t.tag) && t.tag < 1000 && t.tag != 62 {
			h.Anomalies = append(h.Anomalies, fmt.Sprintf("main header carries signature tag %d", t.tag))
			if _, both := sig.by[t.tag]; both {
				h.Anomalies = append(h.Anomalies, fmt.Sprintf("tag %d is in both headers", t.tag))
			}
		}
		if t.tag == 62 {
			h.Anomalies = append(h.Anomalies, "main header carries the signature header region tag 62")
		}
	}
	_, rsa := sig.by[sigTagRSA]
	_, dsa := sig.by[sigTagDSA]
	_, pgp := sig.by[sigTagPGP]
	_, gpg := sig.by[sigTagGPG]
	if (rsa || dsa) && !pgp && !gpg && h.PayloadDigest == "" {
		h.Anomalies = append(h.Anomalies, "header-only signature and no payload digest: no signature covers the payload")
	}

	// Header digests in the signature header must match the main header.
	for _, d := range []struct {
		tag  uint32
		name string
		sum  func([]byte) string
	}{
		{sigTagSHA256, "SHA-256", func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }},
		{sigTagSHA1, "SHA-1", func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }},
	} {
		want, err := sig.str(d.tag)
		if err != nil {
			return err
		}
		if want != "" && !strings.EqualFold(want, d.sum(main.raw)) {
			return rpmErr(mainOff, fmt.Sprintf("main header does not match the %s digest in the signature header", d.name), ErrChecksum)
		}
	}
	return nil
}

func isSignatureTag(tag uint32) bool {
	return tag == 62 || (tag >= 256 && tag < 300) || (tag >= 999 && tag <= 1008)
}

func (h *RPMHeader) scriptlets(main *rpmHdr) error {
	for _, s := range rpmScripts {
		bodies, hasBody, err := main.strs(s.script)
		if err != nil {
			return err
		}
		progs, hasProg, err := main.strs(s.prog)
		if err != nil {
			return err
		}
		if !hasBody && !hasProg {
			continue
		}
		if !s.array {
			sc := RPMScriptlet{Name: s.name, Interpreter: progs}
			if hasBody {
				sc.Body = bodies[0]
			}
			if len(sc.Interpreter) == 0 {
				sc.Interpreter = []string{"/bin/sh"}
			}
			h.Scriptlets = append(h.Scriptlets, sc)
			continue
		}
		// Triggers: one script and one interpreter per trigger.
		for i := 0; i < max(len(bodies), len(progs)); i++ {
			sc := RPMScriptlet{Name: s.name, Interpreter: []string{"/bin/sh"}}
			if i < len(bodies) {
				sc.Body = bodies[i]
			}
			if i < len(progs) && progs[i] != "" {
				sc.Interpreter = []string{progs[i]}
			}
			h.Scriptlets = append(h.Scriptlets, sc)
		}
	}
	return nil
}

func (h *RPMHeader) files(main *rpmHdr) error {
	var paths []string
	basenames, ok, err := main.strs(tagBasenames)
	if err != nil {
		return err
	}
	if ok {
		dirnames, okd, err := main.strs(tagDirnames)
		if err != nil {
			return err
		}
		idx, oki, err := main.ints(tagDirIndexes)
		if err != nil {
			return err
		}
		if !okd || !oki || len(idx) != len(basenames) {
			return rpmErr(-1, fmt.Sprintf("%d BASENAMES need as many DIRINDEXES (%d) and a DIRNAMES tag", len(basenames), len(idx)), nil)
		}
		paths = make([]string, len(basenames))
		for i, b := range basenames {
			d := idx[i]
			if d < 0 || d >= int64(len(dirnames)) {
				return rpmErr(-1, fmt.Sprintf("DIRINDEXES value %d for file %d is outside the %d DIRNAMES", d, i, len(dirnames)), nil)
			}
			paths[i] = dirnames[d] + b
		}
	} else if old, ok, err := main.strs(tagOldFilenames); err != nil {
		return err
	} else if ok {
		paths = old
	}
	if len(paths) == 0 {
		return nil
	}
	n := len(paths)
	if int64(n) > main.lim.Entries {
		return &limits.Error{Limit: "entries", Value: main.lim.Entries, What: fmt.Sprintf("rpm header listing %d files", n)}
	}
	strsN := func(tag uint32) ([]string, error) {
		v, ok, err := main.strs(tag)
		if err == nil && ok && len(v) != n {
			err = rpmErr(-1, fmt.Sprintf("tag %d has %d values for %d files", tag, len(v), n), nil)
		}
		return v, err
	}
	intsN := func(tag uint32) ([]int64, error) {
		v, ok, err := main.ints(tag)
		if err == nil && ok && len(v) != n {
			err = rpmErr(-1, fmt.Sprintf("tag %d has %d values for %d files", tag, len(v), n), nil)
		}
		return v, err
	}
	modes, err := intsN(tagFileModes)
	if err != nil {
		return err
	}
	sizes, err := intsN(tagLongFileSizes)
	if err != nil {
		return err
	}
	if sizes == nil {
		if sizes, err = intsN(tagFileSizes); err != nil {
			return err
		}
		for i := range sizes {
			sizes[i] = int64(uint32(sizes[i]))
		}
	}
	flags, err := intsN(tagFileFlags)
	if err != nil {
		return err
	}
	var strTags [5][]string
	for i, tag := range []uint32{tagFileDigests, tagFileLinktos, tagFileUsername, tagFileGroupname, tagFileCaps} {
		if strTags[i], err = strsN(tag); err != nil {
			return err
		}
	}
	h.FileDigestAlgo = 1
	if v, ok, err := main.int(tagFileDigestAlg); err != nil {
		return err
	} else if ok {
		h.FileDigestAlgo = int(v)
	}
	at := func(s []string, i int) string {
		if s == nil {
			return ""
		}
		return s[i]
	}
	h.Files = make([]RPMFile, n)
	for i, p := range paths {
		f := RPMFile{Path: p, Type: Regular, Size: -1,
			Digest: at(strTags[0], i), LinkTo: at(strTags[1], i), User: at(strTags[2], i), Group: at(strTags[3], i), Caps: at(strTags[4], i)}
		if modes != nil {
			m := uint64(uint16(modes[i]))
			f.Type, _ = unixType(m)
			f.Mode = unixMode(m)
		}
		if sizes != nil {
			f.Size = sizes[i]
		}
		if flags != nil {
			f.Flags = uint32(flags[i])
		}
		h.Files[i] = f
	}
	return nil
}

// digestAlgos maps OpenPGP hash algorithm numbers to hashes.
var digestAlgos = map[int]func() hash.Hash{
	1: md5.New, 2: sha1.New, 8: sha256.New, 9: sha512.New384, 10: sha512.New, 11: sha256.New224,
}

var rpmCompressors = map[string]Compression{
	"gzip": Gzip, "bzip2": Bzip2, "xz": XZ, "lzma": LZMA, "zstd": Zstd,
}

// rpmPayload reads the cpio payload of an rpm package and checks it against the header.
type rpmPayload struct {
	h     *RPMHeader
	lim   *limits.Limits
	cpio  *cpioReader
	dec   io.ReadCloser
	raw   *bufio.Reader
	whole hash.Hash // payload digest, over the compressed bytes
	files map[string]int
	seen  []bool
	body  io.Reader
	err   error
}

func newRPMPayload(src io.Reader, h *RPMHeader, lim *limits.Limits, budget *limits.Budget) (*rpmPayload, error) {
	p := &rpmPayload{h: h, lim: lim}
	if h.PayloadDigest != "" {
		if mk, ok := digestAlgos[h.PayloadDigestAlgo]; ok {
			p.whole = mk()
			src = io.TeeReader(src, p.whole)
		} else {
			h.Anomalies = append(h.Anomalies, fmt.Sprintf("payload digest algorithm %d is not known; payload digest not checked", h.PayloadDigestAlgo))
		}
	}
	switch h.PayloadFormat {
	case "", "cpio":
	default:
		return nil, rpmErr(-1, "payload format "+quoteName(h.PayloadFormat)+" is not supported", ErrUnsupported)
	}
	p.raw = bufio.NewReaderSize(src, 64<<10)
	head, _ := p.raw.Peek(16)
	c := DetectCompression(head)
	if c == NoCompression && !bytes.HasPrefix(head, []byte("0707")) {
		return nil, rpmErr(-1, "payload is neither a known compressed stream nor a cpio archive", nil)
	}
	h.PayloadCompression = c
	tagged := Gzip // rpm's default when the tag is absent
	if h.PayloadCompressor != "" {
		var ok bool
		if tagged, ok = rpmCompressors[h.PayloadCompressor]; !ok {
			tagged = 255
		}
	}
	switch {
	case tagged == c:
	case h.PayloadCompressor == "" && c == NoCompression:
		// rpmbuild writes uncompressed payloads without the tag; rpm reads them through
		// zlib's transparent mode.
	case h.PayloadCompressor == "":
		h.Anomalies = append(h.Anomalies, fmt.Sprintf("no payload compressor tag (gzip is implied) but the payload is %s", c))
	default:
		h.Anomalies = append(h.Anomalies, fmt.Sprintf("payload compressor tag says %q but the payload is %s", h.PayloadCompressor, c))
	}
	dec, err := Decompress(c, p.raw, lim, budget)
	if err != nil {
		return nil, err
	}
	p.dec = dec
	p.cpio = &cpioReader{r: dec, lim: lim, stripped: p.stripped}
	p.files = make(map[string]int, len(h.Files))
	for i, f := range h.Files {
		p.files[f.Path] = i
	}
	p.seen = make([]bool, len(h.Files))
	return p, nil
}

// stripped resolves an rpm stripped cpio entry from the header's file list.
func (p *rpmPayload) stripped(fx uint64) (*Entry, error) {
	if fx >= uint64(len(p.h.Files)) {
		return nil, rpmErr(-1, fmt.Sprintf("stripped payload entry names file %d of %d", fx, len(p.h.Files)), nil)
	}
	f := p.h.Files[fx]
	// Named as rpm names payload entries: relative, with a "./" prefix.
	return &Entry{Name: "." + f.Path, Type: f.Type, Mode: f.Mode, Size: f.Size, Linkname: f.LinkTo}, nil
}

func payloadPath(name string) string {
	name = strings.TrimPrefix(name, ".")
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return name
}

func (p *rpmPayload) Next() (*Entry, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.body = nil
	e, err := p.cpio.Next()
	if err == io.EOF {
		p.err = p.finish()
		return nil, p.err
	}
	if err != nil {
		p.err = err
		return nil, err
	}
	p.body = p.cpio
	i, listed := p.files[payloadPath(e.Name)]
	if !listed {
		e.Anomalies = append(e.Anomalies, "not listed in the rpm header; rpm would refuse to install it")
		return e, nil
	}
	p.seen[i] = true
	f := p.h.Files[i]
	if f.Type != e.Type && !(e.Type == Hardlink && f.Type == Regular) {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("payload says %s, the rpm header says %s", e.Type, f.Type))
	}
	if f.Mode != e.Mode {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("payload mode %v, the rpm header says %v", e.Mode, f.Mode))
	}
	if e.Size > 0 && f.Size >= 0 && e.Size != f.Size && e.Type != Symlink {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf("payload size %d, the rpm header says %d", e.Size, f.Size))
	}
	if (e.Type == Regular || e.Type == Hardlink) && f.Digest != "" && e.Size == f.Size && (e.Size > 0 || e.Type == Regular) {
		if mk, ok := digestAlgos[p.h.FileDigestAlgo]; ok {
			p.body = &digestReader{r: p.cpio, h: mk(), want: f.Digest, name: e.Name}
		}
	}
	return e, nil
}

// finish drains the payload after the cpio trailer, checks the payload digest, and notes
// the header's files the payload did not carry.
func (p *rpmPayload) finish() error {
	if _, err := io.Copy(io.Discard, p.dec); err != nil {
		return err
	}
	p.dec.Close()
	if p.whole != nil {
		if _, err := io.Copy(io.Discard, p.raw); err != nil {
			return rpmErr(-1, "reading the payload", err)
		}
		if got := hex.EncodeToString(p.whole.Sum(nil)); !strings.EqualFold(got, p.h.PayloadDigest) {
			return rpmErr(-1, "payload does not match the payload digest in the header", ErrChecksum)
		}
	}
	var missing []string
	for i, f := range p.h.Files {
		if !p.seen[i] && f.Flags&RPMFileGhost == 0 && f.Type == Regular {
			missing = append(missing, f.Path)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		shown := missing[:min(len(missing), 10)]
		p.h.Anomalies = append(p.h.Anomalies, fmt.Sprintf("%d files of the header are not in the payload: %s", len(missing), strings.Join(shown, ", ")))
	}
	return io.EOF
}

func (p *rpmPayload) Read(b []byte) (int, error) {
	if p.body == nil {
		return 0, io.EOF
	}
	return p.body.Read(b)
}

// digestReader checks content against the digest the rpm header records for it.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	name string
	err  error
}

func (d *digestReader) Read(b []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(b)
	d.h.Write(b[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(d.h.Sum(nil)); !strings.EqualFold(got, d.want) {
			err = &FormatError{Format: "rpm", Offset: -1, Entry: d.name, Reason: "content does not match the file digest in the rpm header", Err: ErrChecksum}
		}
	}
	if err != nil {
		d.err = err
	}
	return n, err
}
