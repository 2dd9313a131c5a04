// Package publish is the release side of kensa's attestations: it signs what a vendor
// ships and attaches SBOMs and verification results in the formats acceptance testers
// check with cosign and kensa verify.
//
//   - SignBlob signs a file into a Sigstore bundle (v0.3, a message signature), which
//     `cosign verify-blob --bundle` verifies.
//   - AttestBlob signs an in-toto statement into a DSSE Sigstore bundle, which
//     `cosign verify-blob-attestation --bundle` verifies. Statement builds one from a
//     predicate type, the predicate JSON and the subjects' digests.
//   - SignImage and AttestImage sign an image in its registry exactly as cosign v3 does:
//     an in-toto statement about the image manifest digest (predicate type
//     https://sigstore.dev/cosign/sign/v1 for a signature), signed into a DSSE Sigstore
//     bundle and stored as an OCI 1.1 referrer manifest of the image (artifactType
//     application/vnd.dev.sigstore.bundle.v0.3+json, the bundle as its only layer). The
//     registry's referrers API lists it; a registry without that API gets the OCI
//     referrers tag schema (the sha256-HEX tag) updated instead. `cosign verify` and
//     `cosign verify-attestation` find and verify it, and so does `kensa verify`.
//
// A Signer signs with a key (a cosign key pair or a PEM key loaded by
// kensa.dev/kensa/attest/signing, which also opens KMS keys through sigstore's plugin protocol) or keyless: an ephemeral
// key certified by Fulcio for the caller's OIDC token, optionally logged in Rekor and
// timestamped by a timestamp authority. Nothing is contacted but the URLs the Signer and
// the image reference name.
//
// Every answer read from a registry is bounded (MaxRegistryResponse, MaxReferrers) and a
// registry's answer of the wrong kind is an error; panics below the API become errors.
//
// Example, a release pipeline signing its image and attaching its SBOM:
//
//	key, err := signing.LoadKey("cosign.key", []byte(os.Getenv("COSIGN_PASSWORD")))
//	if err != nil { ... }
//	s := publish.Signer{Key: key}
//	sig, err := publish.SignImage(ctx, s, "registry.example/app:1.0", publish.RegistryOptions{})
//	att, err := publish.AttestImage(ctx, s, sig.Image, publish.PredicateCycloneDX, sbomJSON, publish.RegistryOptions{})
//	bundle, err := publish.SignBlob(ctx, s, file) // write it as app.tar.gz.sigstore.json
package publish
