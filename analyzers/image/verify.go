package image

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// newHasher returns the hash function of a digest; v1.Hash only parses sha256 and sha512.
func newHasher(d v1.Hash) (hash.Hash, error) {
	switch d.Algorithm {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q", d.Algorithm)
}

func sumHex(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// verifier passes through exactly size bytes of r and fails unless they hash to digest: a
// short blob, a long blob (one byte past size is enough to tell) and a wrong digest are
// errors from Read, returned instead of io.EOF. With size < 0 only the digest is checked,
// for streams whose length no descriptor states (uncompressed layers); code is then the
// code of a digest mismatch.
type verifier struct {
	r      io.Reader
	h      hash.Hash
	digest v1.Hash
	size   int64
	n      int64
	what   string
	code   Code
	err    error
}

func newVerifier(r io.Reader, digest v1.Hash, size int64, what string) (*verifier, error) {
	h, err := newHasher(digest)
	if err != nil {
		return nil, newError(CodeUnsupported, what, "%v", err)
	}
	return &verifier{r: r, h: h, digest: digest, size: size, what: what, code: CodeDigest}, nil
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.size >= 0 {
		// Allow one byte past the end so that a longer blob is noticed.
		if room := v.size - v.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.size >= 0 && v.n > v.size {
		v.err = newError(CodeSize, v.what, "more than the %d bytes its descriptor states", v.size)
		return 0, v.err
	}
	if err == io.EOF {
		v.err = v.finish()
		if v.err != nil {
			return n, v.err
		}
		v.err = io.EOF
		return n, io.EOF
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *verifier) finish() error {
	if v.size >= 0 && v.n != v.size {
		return newError(CodeSize, v.what, "%d bytes, but its descriptor states %d", v.n, v.size)
	}
	if got := sumHex(v.h); got != v.digest.Hex {
		return newError(v.code, v.what, "content hashes to %s:%s, not %s: it was altered or damaged; do not use this copy", v.digest.Algorithm, got, v.digest)
	}
	return nil
}

// readVerified reads a whole small blob (a manifest, index or config) through a verifier,
// never more than max bytes.
func readVerified(r io.Reader, d v1.Descriptor, what string) ([]byte, error) {
	v, err := newVerifier(r, d.Digest, d.Size, what)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, min(d.Size+1, 64<<10))
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := v.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
