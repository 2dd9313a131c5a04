// Package checksums verifies a delivery against its checksum manifests (SHA256SUMS and
// the like) and the manifests' OpenPGP signatures, for `kensa verify`.
//
// A manifest lists files with their sha256 or sha512 digests, in the GNU coreutils form
// ("HEX  name", "HEX *name", the backslash-escaped form), the BSD tagged form
// ("SHA256 (name) = HEX") or as an OpenPGP clearsigned message holding either. Names are
// relative to the manifest's directory. Every listed file is checked against the
// delivery; a listed file that is missing and an executable in the manifest's directory
// tree that no manifest lists are failures too. Parse reads one manifest; Verify does the
// whole job over a Delivery and returns result checks:
//
//	checksum/manifest   one per manifest: the sum of its file checks
//	checksum/file       one per listed file: pass, or fail with both digests, or missing
//	checksum/unlisted   one per unlisted executable: fail
//	signature/openpgp   one per signature of a manifest (or one saying it has none)
//
// An executable is unlisted when it lies in the directory tree of a manifest and no
// manifest lists it; a one-file manifest (app.tar.gz.sha256) claims no tree, and files
// inside an archive are the archive's business. A plain manifest beside its clearsigned
// copy (SHA256SUMS and a clearsigned SHA256SUMS.asc) must list the same entries, and the
// copy's checks stand for both.
//
// A signature passes only when it is good and made by one of the keys given (Keys, from
// --pgp-key) or a signing subkey of one, with a key that is neither expired nor revoked
// and a hash the OpenPGP library accepts (not SHA-1). A good signature by any other key
// fails: the keys pin the signer. With no keys, a signature is not checked and an
// unsigned manifest is a skip, so a pass of the file checks is never read as more than
// "the files match the manifest". With keys but no signature, it fails.
//
// OpenPGP is github.com/ProtonMail/go-crypto (openpgp/v2). Every input is bounded
// (MaxManifestSize, MaxLineLength, MaxEntries, MaxSignatureSize, MaxKeyFileSize,
// Options.MaxFileSize) and no input makes the package panic.
//
// Example:
//
//	keys, err := checksums.ReadKeyFiles("vendor.asc") // --pgp-key vendor.asc
//	if err != nil {
//		return err // a secret key, an unreadable file: exit 2
//	}
//	d := checksums.NewDelivery([]checksums.File{
//		{Path: "SHA256SUMS", Open: open("SHA256SUMS")},
//		{Path: "SHA256SUMS.asc", Open: open("SHA256SUMS.asc")},
//		{Path: "app", SHA256: "9f86d0…", Executable: true, Open: open("app")},
//	})
//	checks := checksums.Verify(d, checksums.Options{Keys: keys})
package checksums
