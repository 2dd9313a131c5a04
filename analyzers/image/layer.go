package image

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"kensa.dev/kensa/analyzers/archive"
	"kensa.dev/kensa/internal/limits"
)

// Open returns the layer's uncompressed tar stream. The compression is recognised by the
// stream's first bytes, whatever the media type says (a disagreement becomes a note, C5),
// and decompression is bounded by the limits and charged to budget (which may be nil).
//
// Reading to io.EOF verifies everything: the stored bytes against Digest and Size, and the
// uncompressed bytes against DiffID. A mismatch is returned by Read instead of io.EOF.
// Close reads whatever the caller left unread (the end of the tar, padding, anything hidden
// after it: O3), so that the layer is verified even when the caller stopped at the end of
// the tar; Close then returns the verification error, if any. A caller that gives up on a
// layer because of an error of its own may ignore Close's error.
func (l Layer) Open(budget *limits.Budget) (_ io.ReadCloser, err error) {
	im := l.img
	what := fmt.Sprintf("layer %d (%s)", l.Index, l.Digest)
	defer recoverTo(&err, what)
	if im == nil || im.src == nil {
		return nil, fmt.Errorf("%s: not part of an opened image", what)
	}
	if err := im.ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, errClosed)
	}
	if l.Size > im.lim.BlobSize {
		return nil, &limits.Error{Limit: "blob-size", Value: im.lim.BlobSize, What: fmt.Sprintf("%s of %d bytes", what, l.Size)}
	}
	d := v1.Descriptor{MediaType: v1MediaType(l.MediaType), Size: l.Size, Digest: l.digest}
	raw, _, err := im.src.fetch(im.ctx, d, false)
	if err != nil {
		return nil, err
	}
	cv, err := newVerifier(raw, l.digest, l.Size, what)
	if err != nil {
		raw.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(cv, 64<<10)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		raw.Close()
		return nil, err
	}
	c := archive.DetectCompression(head)
	if want, ok := layerCompression(l.MediaType); ok && want != c.String() {
		im.noteLayer(l.Index, "media type %s announces %s compression but the bytes are %s; read as %s", l.MediaType, want, c, c)
	}
	var dec io.ReadCloser
	if c == archive.NoCompression {
		dec = io.NopCloser(&bounded{r: br, lim: im.lim, budget: budget, what: what})
	} else {
		dec, err = archive.Decompress(c, br, im.lim, budget)
		if err != nil {
			raw.Close()
			return nil, &Error{Code: CodeMalformed, What: what, Detail: "cannot decompress", Err: err}
		}
	}
	if c == archive.NoCompression && l.digest == l.diffID {
		// The stored bytes are the uncompressed ones and cv already checks them against
		// the diff ID: hashing them a second time would check nothing more.
		return &layerReader{layer: l, raw: raw, br: br, dec: dec, diff: dec}, nil
	}
	dv, err := newVerifier(dec, l.diffID, -1, what+" uncompressed")
	if err != nil {
		dec.Close()
		raw.Close()
		return nil, err
	}
	dv.code = CodeDiffID
	return &layerReader{layer: l, raw: raw, br: br, dec: dec, diff: dv}, nil
}

// layerReader is the uncompressed stream of one layer.
type layerReader struct {
	layer  Layer
	raw    io.Closer
	br     *bufio.Reader // the stored bytes, through the digest verifier
	dec    io.ReadCloser
	diff   io.Reader // dec through the diff ID verifier, or dec when cv checks the same bytes
	done   bool
	err    error
	closed bool
}

func (r *layerReader) Read(p []byte) (n int, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			n, err = 0, &Error{Code: CodeMalformed, What: fmt.Sprintf("layer %d", r.layer.Index), Detail: fmt.Sprintf("internal error while reading it (panic: %v); please report it with the input", rec)}
		}
		if err != nil && err != io.EOF && r.err == nil {
			r.err = err
		}
	}()
	if r.err != nil {
		return 0, r.err
	}
	if r.done {
		return 0, io.EOF
	}
	n, err = r.diff.Read(p)
	if err == io.EOF {
		if err = r.finish(); err == nil {
			r.done = true
			return n, io.EOF
		}
	}
	if err != nil {
		r.err = err
		if ctxErr := r.layer.img.ctx.Err(); ctxErr != nil {
			r.err = fmt.Errorf("layer %d: %w (%v)", r.layer.Index, errClosed, err)
		}
		return n, r.err
	}
	return n, nil
}

// finish reads the stored bytes left after the end of the compressed stream, so that the
// digest covers the whole blob, and notes them: they are data no tar reader sees.
func (r *layerReader) finish() error {
	k, err := io.Copy(io.Discard, r.br)
	if err != nil {
		return err
	}
	if k > 0 {
		r.layer.img.noteLayer(r.layer.Index, "%d bytes follow the end of the compressed stream", k)
	}
	return nil
}

// Close drains and verifies what is left, then releases the layer.
func (r *layerReader) Close() error {
	if r.closed {
		return r.err
	}
	r.closed = true
	if !r.done && r.err == nil {
		_, _ = io.Copy(io.Discard, readerOnly{r})
	}
	r.dec.Close()
	r.raw.Close()
	return r.err
}

type readerOnly struct{ io.Reader }

// bounded applies the entry-size limit and the budget to an uncompressed layer, as
// archive.Decompress does for compressed ones.
type bounded struct {
	r      io.Reader
	lim    *limits.Limits
	budget *limits.Budget
	what   string
	n      int64
	err    error
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.lim.EntrySize {
		b.err = &limits.Error{Limit: "entry-size", Value: b.lim.EntrySize, What: b.what}
		return 0, b.err
	}
	if berr := b.budget.Take(int64(n)); berr != nil {
		b.err = berr
		return 0, b.err
	}
	return n, err
}
