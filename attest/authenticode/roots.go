package authenticode

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// Limits on trust material files.
const (
	// maxRootFile is the largest root certificate file read.
	maxRootFile = 16 << 20
	// maxRootCerts is the most certificates one root file may hold.
	maxRootCerts = 1000
)

// LoadRoots returns a pool of the certificates in the PEM or DER files at paths (as
// given with --authenticode-root or --authenticode-tsa-root). The host's trust store is
// added only when system is true; it differs from host to host (and on Windows and macOS
// crypto/x509 then asks the platform's verifier), so a pinned verification leaves it
// out. An unreadable file, one larger than 16 MiB, one with
// more than 1000 certificates or none at all is an error.
func LoadRoots(paths []string, system bool) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if system {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("authenticode: reading the host's trust store: %w", err)
		}
		pool = sys
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("authenticode: trusted root: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxRootFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("authenticode: trusted root %s: %w", p, err)
		}
		if len(b) > maxRootFile {
			return nil, fmt.Errorf("authenticode: trusted root %s is larger than %d bytes; give a file of certificates", p, maxRootFile)
		}
		certs, err := ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("authenticode: trusted root %s: %w", p, err)
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}

// ParseCertificates reads the certificates of PEM data (CERTIFICATE blocks; other
// blocks are an error) or of one DER certificate. It returns an error when there is
// none, more than 1000, or one does not parse.
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("neither PEM nor a DER certificate: %w", err)
		}
		return []*x509.Certificate{c}, nil
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", blk.Type)
		}
		if len(out) == maxRootCerts {
			return nil, fmt.Errorf("more than %d certificates", maxRootCerts)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return out, nil
}
