package checksums

import (
	"strings"
)

// IsManifestName reports whether a file name (a path; only its last element counts) is
// one that projects publish checksum manifests under. Case is ignored. The names are:
//
//	SHA256SUMS, SHA512SUMS, SHA256SUM, SHA512SUM, CHECKSUMS, CHECKSUM, and these after
//	  "-", "_" or "." (HashiCorp's NAME_1.2.3_SHA256SUMS, Fedora's …-x86_64-CHECKSUM,
//	  app.tar.gz.sha256sum), each also with ".txt" (sha256sum.txt, checksums.txt)
//	*.sha256, *.sha512, *.sha256.txt, *.sha512.txt  (one file's digest: app.tar.gz.sha256)
//	*checksums*.txt  (goreleaser's NAME_1.2.3_checksums.txt)
//
// Callers should not treat executables (scripts named update-checksums) as manifests.
//
// Signatures beside a manifest (SHA256SUMS.asc) are not manifests; a clearsigned manifest
// under such a name is found by content (see Discover).
func IsManifestName(name string) bool {
	l := strings.ToLower(baseName(name))
	l = strings.TrimSuffix(l, ".txt")
	for _, s := range []string{"sha256sums", "sha512sums", "sha256sum", "sha512sum", "checksums", "checksum"} {
		if l == s {
			return true
		}
		for _, sep := range []string{"-", "_", "."} {
			if strings.HasSuffix(l, sep+s) {
				return true
			}
		}
	}
	if strings.HasSuffix(l, ".sha256") || strings.HasSuffix(l, ".sha512") {
		return true
	}
	return strings.Contains(l, "checksums") && strings.HasSuffix(strings.ToLower(name), ".txt")
}

// baseName returns the last element of an inventory path, after the last "/" or "!".
func baseName(p string) string {
	return p[strings.LastIndexAny(p, "/!")+1:]
}

// SignatureExtensions are the extensions of a manifest's detached OpenPGP signature
// files: SHA256SUMS.asc (armored), SHA256SUMS.sig and SHA256SUMS.gpg (binary or
// armored), SHA256SUMS.sign (Debian's CD images).
var SignatureExtensions = []string{".asc", ".sig", ".gpg", ".sign"}

// signatureOf returns the manifest a signature file belongs to by name: "X" for X.asc,
// X.sig, X.gpg, X.sign and, as HashiCorp names them, X.72D7468F.sig (a key id between).
func signatureOf(p string) (string, bool) {
	for _, ext := range SignatureExtensions {
		if !strings.HasSuffix(p, ext) {
			continue
		}
		base := strings.TrimSuffix(p, ext)
		if base == "" || strings.HasSuffix(base, "/") || strings.HasSuffix(base, "!") {
			return "", false
		}
		if i := strings.LastIndexByte(base, '.'); i > 0 {
			if id := base[i+1:]; (len(id) == 8 || len(id) == 16 || len(id) == 40) && isHex([]byte(id), len(id)) {
				if IsManifestName(base[:i]) {
					return base[:i], true
				}
			}
		}
		return base, true
	}
	return "", false
}
