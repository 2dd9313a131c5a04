// Package sigstore verifies Sigstore and cosign blob signatures offline, for `kensa verify`:
// Sigstore bundles v0.1 to v0.3 (message signatures and DSSE attestations), GitHub
// attestation files (.intoto.jsonl), cosign's old bundle and detached .sig files, checked
// with sigstore-go against a trusted root (the Sigstore public-good root embedded in kensa,
// or --trusted-root) and the signers a policy names: public keys (--key) or keyless
// identities (--certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]).
//
// Pinning is the rule: a valid signature by a signer the trust does not name fails, and a
// trust naming no signer fails every signature ("a policy must name whom it trusts").
// Transparency-log inclusion proofs, signed entry timestamps, checkpoints and RFC 3161
// timestamps are checked offline against the trusted root. What cannot be checked offline
// (a KMS key, a detached signature with a certificate and no bundle) is reported as an
// error, never a pass. Every transparency-log entry a bundle carries must verify, and so
// must every RFC 3161 timestamp when the trusted root names timestamp authorities, each
// once: a bundle that is partly invalid, or repeats an entry or an authority's timestamp,
// fails even when the rest of it would verify.
//
// A DSSE envelope must carry exactly one signature (the rule of Sigstore bundles, applied
// to cosign's .att layers too): an envelope with more fails whatever their order and
// validity, so no signature counts twice and an invalid one neither hides nor is hidden by
// a valid one. The signature is over DSSE's pre-authentication encoding (byte lengths) of
// the payloadType and the decoded payload, and the payloadType must be
// application/vnd.in-toto+json. With several trusted keys, each is tried on the one
// signature, the key the bundle's hint names first (the hint is not trusted); the result
// does not depend on their order. Inputs are bounded (MaxBundleSize, MaxJSONDepth, MaxChain,
// MaxEntries) and panics below the API become errors.
//
// For a DSSE bundle the verified in-toto statement is returned (Verified.Statement) for
// the provenance checks, which this package does not make.
//
// Example, verifying every signature file of a delivery:
//
//	trust, err := sigstore.NewTrust(sigstore.TrustOptions{
//		Identities: []sigstore.Identity{{
//			SANRegexp: `^https://github\.com/acme/app/\.github/workflows/release\.yml@`,
//			Issuer:    "https://token.actions.githubusercontent.com",
//		}},
//	})
//	if err != nil { ... }
//	for _, a := range sigstore.Discover(files) {
//		checks, verified := sigstore.VerifyAttachment(a, readFile, sha256Of[a.Artifact], trust)
//		// checks are "signature/sigstore" results with a.Artifact as subject;
//		// verified[i].Statement goes to the provenance checks.
//	}
//
// Or one bundle: v, err := sigstore.VerifyBundle(bundleJSON,
// sigstore.ArtifactRef{SHA256: hexDigest}, trust); check := sigstore.Check(path, v, err).
package sigstore
