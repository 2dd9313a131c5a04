package inventory

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// archiveCtx is what the content of an entry needs to know about where it sits.
type archiveCtx struct {
	target int
	depth  int // nesting depth of the entry: 0 for a file of the target itself
	budget *limits.Budget
	layer  *int
	origin int64
}

// entry is the content of one file to inspect.
type entry struct {
	n    *node
	r    io.Reader
	disk *os.File // set when the content is a file on disk, for random access
}

var bufPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// drainPool holds the buffers drain reads with.
var drainPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// drain reads r to its end and returns how many bytes it read. It reads 256 KiB at a
// time, so that the writers a stream tees to (digests, the kept copy, spools) are written
// in pieces of that size: io.Copy to io.Discard reads 8 KiB at a time, and each piece
// costs every writer of every archive level a call (a system call for the kept copy).
func drain(r io.Reader) (int64, error) {
	bp := drainPool.Get().(*[]byte)
	defer drainPool.Put(bp)
	var n int64
	for {
		m, err := r.Read(*bp)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// content reads one file's bytes once: it hashes them, sniffs the format and, for an
// archive, walks what is inside while the bytes stream past.
func (w *walker) content(ctx context.Context, ac archiveCtx, e entry) {
	n := e.n
	defer func() {
		if v := recover(); v != nil {
			w.fail(n.Path, result.KindInternal, &panicError{v})
		}
	}()
	h := sha256.New()
	counter := &countWriter{}
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(e.r)
	defer func() { br.Reset(nil); bufPool.Put(br) }()

	head, err := br.Peek(sniff.HeadSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		w.fail(n.Path, "", err)
		return
	}
	det := sniff.Detect(head, baseName(n.Path), n.Size)
	n.Format = string(det.Format)
	n.Interpreter = det.Interpreter
	sinks := []io.Writer{h, counter}
	art := w.wants(n, det)
	var kw *keepWriter
	if w.store != nil {
		n.stored.MIME = mimeOf(head)
		if e.disk == nil {
			// Keep the bytes for after the walk; the analyzers read the kept copy too.
			kw = w.store.writer(w.lim)
			defer kw.release()
			sinks = append(sinks, kw)
		}
	}
	var stanzas *archive.StanzaCounter
	if isDebControl(n.Path) {
		stanzas = &archive.StanzaCounter{}
		sinks = append(sinks, stanzas)
	}
	var sp *spoolWriter
	if art != nil && e.disk == nil && kw == nil {
		// Keep a copy while the bytes stream past, for the analyzers' random access.
		sp = w.scratch.newSpool(w.lim, n.Size)
		defer func() {
			if sp != nil { // not handed to analyzeLater
				sp.free()
			}
		}()
		sinks = append(sinks, sp)
	}
	body := io.TeeReader(br, io.MultiWriter(sinks...))

	if det.Format.Opened() {
		if ac.depth >= w.lim.Depth {
			w.fail(n.Path, result.KindLimit, &limits.Error{Limit: "depth", Value: int64(w.lim.Depth), What: "archive nesting"})
		} else {
			w.open(ctx, ac, n, det.Format, body, e.disk)
		}
	}
	// Drain what the archive reader left: trailing bytes are part of the file and its
	// digest, and a truncated file must fail here rather than pass as shorter.
	rest, err := drain(body)
	if err != nil {
		w.fail(n.Path, "", err)
		return
	}
	if rest > 0 && det.Format.Opened() && counter.n > rest {
		n.Anomalies = append(n.Anomalies, fmt.Sprintf("%d bytes follow the end of the %s data", rest, n.Format))
	}
	if stanzas != nil && stanzas.Stanzas() != 1 {
		n.Anomalies = append(n.Anomalies, fmt.Sprintf("the package's control file holds %d stanzas, not exactly one: dpkg refuses it, other tools may read another package than the first stanza names", stanzas.Stanzas()))
	}
	n.Digest = digest(h)
	if n.Size >= 0 && n.Size != counter.n && e.disk == nil {
		w.fail(n.Path, result.KindMalformed, fmt.Errorf("header declares %d bytes, content has %d", n.Size, counter.n))
	}
	n.Size = counter.n
	var ra io.ReaderAt
	if e.disk != nil {
		ra = e.disk
	}
	switch {
	case kw != nil:
		st, err := kw.commit(n.Digest, n.stored.MIME)
		if err != nil {
			w.fail(n.Path, storeKind(err), fmt.Errorf("could not keep this file for reading after the walk: %w", err))
			return
		}
		n.stored = st
		if art != nil {
			// The kept copy outlives this call: analyse it beside the walk, which goes
			// on decompressing the next entries meanwhile.
			r, err := st.Open()
			if err != nil {
				w.fail(n.Path, result.KindIO, err)
				return
			}
			w.analyzeLater(ctx, n, art, r, nil, func() { r.Close() })
			return
		}
	case w.store != nil && e.disk != nil:
		if abs, err := filepath.Abs(e.disk.Name()); err == nil {
			n.stored.File, n.stored.Size = abs, n.Size
			if fi, err := e.disk.Stat(); err == nil {
				n.stored.stamp = stampOf(fi)
			}
		}
	}
	switch {
	case art != nil && sp != nil:
		// The spooled copy outlives this call: analyse it beside the walk, which goes on
		// with the next entries meanwhile (and keeps every core busy when only one
		// layer is left to read).
		spooled := sp
		sp = nil
		w.analyzeLater(ctx, n, art, nil, spooled, spooled.free)
	case art != nil:
		w.analyze(ctx, n, art, ra, nil)
	}
}

func storeKind(err error) string {
	if limits.IsLimit(err) {
		return result.KindLimit
	}
	return result.KindIO
}

// open walks the archive whose bytes are r, as children of n.
func (w *walker) open(ctx context.Context, ac archiveCtx, n *node, f sniff.Format, r io.Reader, disk *os.File) {
	child := ac
	child.depth++
	fsRoot := false
	switch f {
	case sniff.Tar:
		w.walkArchive(ctx, child, n, archive.NewTar(r, w.lim), false)
	case sniff.Deb:
		w.walkArchive(ctx, child, n, archive.NewDeb(r, w.lim), false)
	case sniff.Ar:
		w.walkArchive(ctx, child, n, archive.NewAr(r, w.lim), false)
	case sniff.Cpio:
		w.walkArchive(ctx, child, n, archive.NewCpio(r, w.lim), false)
	case sniff.RPM:
		rd, _, err := archive.NewRPM(r, w.lim, ac.budget)
		if err != nil {
			w.fail(n.Path, "", err)
			return
		}
		w.walkArchive(ctx, child, n, rd, true)
	case sniff.Zip, sniff.Jar:
		ra, size, done, err := w.randomAccess(r, disk, n.Size)
		if err != nil {
			w.fail(n.Path, "", err)
			return
		}
		defer done()
		zr, err := archive.NewZip(ra, size, w.lim, ac.budget)
		if err != nil {
			w.fail(n.Path, "", err)
			return
		}
		n.Anomalies = append(n.Anomalies, zr.Info().Anomalies...)
		w.walkArchive(ctx, child, n, zr, false)
	default:
		if f.Compressed() {
			w.decompress(ctx, child, n, f, r, fsRoot)
		}
	}
}

var compressions = map[sniff.Format]archive.Compression{
	sniff.Gzip: archive.Gzip, sniff.Bzip2: archive.Bzip2, sniff.XZ: archive.XZ,
	sniff.LZMA: archive.LZMA, sniff.Zstd: archive.Zstd,
}

var tarSuffix = map[sniff.Format]string{
	sniff.Gzip: "tar.gz", sniff.Bzip2: "tar.bz2", sniff.XZ: "tar.xz", sniff.LZMA: "tar.lzma", sniff.Zstd: "tar.zst",
}

// decompress opens a compressed stream. A compressed tar is one archive (app.tar.gz!bin/x);
// any other compressed file holds one file, named after the stream without its suffix
// (notes.txt.gz!notes.txt).
func (w *walker) decompress(ctx context.Context, ac archiveCtx, n *node, f sniff.Format, r io.Reader, fsRoot bool) {
	dr, err := archive.Decompress(compressions[f], r, w.lim, ac.budget)
	if err != nil {
		w.fail(n.Path, "", err)
		return
	}
	defer dr.Close()
	br := bufPool.Get().(*bufio.Reader)
	br.Reset(dr)
	defer func() { br.Reset(nil); bufPool.Put(br) }()
	head, err := br.Peek(sniff.HeadSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		w.fail(n.Path, "", err)
		return
	}
	inner := innerName(baseName(n.Path), f)
	if sniff.Detect(head, inner, -1).Format == sniff.Tar {
		n.Format = tarSuffix[f]
		w.walkArchive(ctx, ac, n, archive.NewTar(br, w.lim), fsRoot)
		// The stream must end cleanly: this verifies its checksum and catches data
		// hidden after the end of the tar.
		extra, err := drain(br)
		if err != nil {
			w.fail(n.Path, "", err)
		} else if extra > 0 {
			n.Anomalies = append(n.Anomalies, fmt.Sprintf("%d bytes follow the end of the tar archive inside the %s stream", extra, f))
		}
		return
	}
	if err := w.countEntry(); err != nil {
		w.fail(n.Path, "", err)
		return
	}
	esc, _ := result.EscapeName(inner)
	c := w.newNode(ac, n.Path+"!"+esc, archive.Regular, 0, -1)
	c.Mode = n.Mode
	w.content(ctx, ac, entry{n: c, r: br})
	w.add(c)
}

// innerName names the single file of a compressed stream.
func innerName(outer string, f sniff.Format) string {
	lower := strings.ToLower(outer)
	for _, ext := range map[sniff.Format][]string{
		sniff.Gzip: {".gz", ".z", ".tgz"}, sniff.Bzip2: {".bz2", ".tbz2", ".tbz"}, sniff.XZ: {".xz", ".txz"},
		sniff.LZMA: {".lzma", ".tlz"}, sniff.Zstd: {".zst", ".zstd", ".tzst"},
	}[f] {
		if strings.HasSuffix(lower, ext) && len(outer) > len(ext) {
			base := outer[:len(outer)-len(ext)]
			if strings.HasPrefix(ext, ".t") && ext != ".tar" {
				base += ".tar"
			}
			return base
		}
	}
	return outer + ".decompressed"
}

// newNode starts the artifact for one entry.
func (w *walker) newNode(ac archiveCtx, p string, t archive.Type, mode fs.FileMode, size int64) *node {
	n := &node{target: ac.target, origin: ac.origin, id: w.ids.Add(1)}
	n.Path = p
	n.Type = t.String()
	n.Mode = modeString(mode)
	n.Size = size
	n.Layer = ac.layer
	if t != archive.Regular && t != archive.Hardlink {
		n.Format = t.String()
		if n.Size < 0 {
			n.Size = 0
		}
	}
	return n
}

// modeString writes permission and special bits in octal: 0755, 4755.
func modeString(m fs.FileMode) string {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return fmt.Sprintf("%04o", v)
}

func digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// isDebControl reports whether p is the control file of a Debian package: the file
// "control" of a package's control member (pkg.deb!control.tar.xz!control).
func isDebControl(p string) bool {
	segs := strings.Split(p, "!")
	return len(segs) >= 3 && segs[len(segs)-1] == "control" && archive.IsDebControlMember(segs[len(segs)-2])
}

// baseName is the last element of a nested path.
func baseName(p string) string {
	if i := strings.LastIndexByte(p, '!'); i >= 0 {
		p = p[i+1:]
	}
	return path.Base(p)
}

// randomAccess gives an archive that needs random access (zip) its bytes: the open file
// when it is on disk, otherwise a private copy in memory or in the scratch directory.
// The returned reader sees exactly the bytes r yields, which also flow to the hash;
// declared is the size the archive declares for r, or -1.
func (w *walker) randomAccess(r io.Reader, disk *os.File, declared int64) (io.ReaderAt, int64, func(), error) {
	if disk != nil {
		// Read the file through r first so that the digest and the parse see one copy.
		n, err := drain(r)
		if err != nil {
			return nil, 0, nil, err
		}
		return disk, n, func() {}, nil
	}
	return w.scratch.spool(r, w.lim, declared)
}

// analyzeLater runs the analyzers over a kept or spooled copy (ra or sp) in another
// goroutine, at most Jobs at a time, then calls release; Take waits for all of them
// before it reads the nodes. The walk waits for a free slot, which bounds the copies
// alive at once.
func (w *walker) analyzeLater(ctx context.Context, n *node, art *analyzers.Artifact, ra io.ReaderAt, sp *spoolWriter, release func()) {
	w.analysisSlots <- struct{}{}
	w.analyses.Add(1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				w.fail(n.Path, result.KindInternal, &panicError{v})
			}
			release()
			<-w.analysisSlots
			w.analyses.Done()
		}()
		w.analyze(ctx, n, art, ra, sp)
	}()
}
