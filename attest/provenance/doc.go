// Package provenance checks what in-toto statements and SLSA provenance (v0.2 and v1)
// claim against what the buyer expects, for `kensa verify`.
//
// It never verifies signatures: package attest/sigstore verifies the DSSE envelope (bare,
// in a .intoto.jsonl line, in a Sigstore bundle or attached to an image) and hands over
// the verified statement payload and the signer's identity. This package parses that
// payload strictly (ParseStatement) and checks it (Check):
//
//   - provenance/subject: a subject carries the artifact's sha256 (and, when the subject
//     lists one, its sha512); a statement about other bytes fails;
//   - provenance/predicate-type: the predicate type is one of those expected;
//   - provenance/builder: the builder id matches the trusted one (with or without
//     @version, "v1" matching "refs/tags/v1" as slsa-verifier does) and is the identity
//     that signed the statement;
//   - provenance/source: the build's source repository (git+https://github.com/o/r,
//     https://github.com/o/r and github.com/o/r are the same), consistent with the
//     source material;
//   - provenance/source-tag, provenance/source-branch: the git ref the build ran from
//     (refs/tags/v1, refs/heads/main);
//   - provenance/required (MissingChecks): expected provenance that is missing fails.
//
// ParseEnvelopes unpacks .intoto.jsonl files and bundles without verifying them, for
// tools and tests that need the unsigned forms.
//
// Example, for one artifact and the statements verified for it:
//
//	artifact, _ := provenance.SubjectOf("dist/app.tar.gz", file)
//	exp := provenance.Expect{
//		BuilderID: "https://github.com/o/r/.github/workflows/release.yml",
//		SourceURI: "github.com/o/r",
//		SourceTag: "v1.2.0",
//		Required:  true,
//	}
//	var checks []result.Check
//	found := false
//	for _, v := range verified { // payload and signer from attest/sigstore
//		st, err := provenance.ParseStatement(v.Payload)
//		if err != nil {
//			checks = append(checks, result.Check{Name: "provenance/statement", Status: result.Erred, Detail: err.Error()})
//			continue
//		}
//		if !exp.WantsPredicate(st.PredicateType) {
//			continue // an SBOM or other attestation: not provenance
//		}
//		found = true
//		checks = append(checks, provenance.Check(st, artifact, exp, v.Signer)...)
//	}
//	if !found {
//		checks = append(checks, provenance.MissingChecks(artifact, exp)...)
//	}
//
// Every statement of an expected type about the artifact is checked and all must pass;
// one that passes does not excuse another that fails.
package provenance
