package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/image"
	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/attest/authenticode"
	"kensa.dev/kensa/attest/checksums"
	"kensa.dev/kensa/attest/provenance"
	"kensa.dev/kensa/attest/signing"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/internal/result"
)

// verifyFlags are the buyer's trust expectations.
type verifyFlags struct {
	keys                             []string
	identity, identityRegexp         string
	issuer, issuerRegexp             string
	trustedRoot                      string
	bundles                          []string
	pgpKeys                          []string
	authRoots, authTSARoots          []string
	authSigners                      []string
	authSystemRoots, requireAuth     bool
	builderID, sourceURI             string
	sourceTag, sourceBranch          string
	predicateTypes                   []string
	requireProvenance, requireSigned bool
	// identities are further keyless signers (from a policy).
	identities []sigstore.Identity
}

func (f *verifyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.keys, "key", nil, "trusted Sigstore/cosign public key: a PEM file, or a KMS URI (repeatable)")
	fl.StringVar(&f.identity, "certificate-identity", "", "trusted keyless signer: the certificate's identity (SAN), exactly")
	fl.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "trusted keyless signer: a regular expression for the identity")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "the OIDC issuer of the keyless signer, exactly")
	fl.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "a regular expression for the OIDC issuer")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json (default: the public-good root embedded in kensa)")
	fl.StringArrayVar(&f.bundles, "bundle", nil, "a Sigstore bundle for a file TARGET, when it is not beside it (repeatable)")
	fl.StringArrayVar(&f.pgpKeys, "pgp-key", nil, "trusted OpenPGP public key file for checksum manifests (repeatable)")
	fl.StringArrayVar(&f.authRoots, "authenticode-root", nil, "trusted Authenticode root certificate file, PEM or DER (repeatable)")
	fl.StringArrayVar(&f.authTSARoots, "authenticode-tsa-root", nil, "trusted time-stamping root for Authenticode (default: the Authenticode roots)")
	fl.StringArrayVar(&f.authSigners, "authenticode-signer", nil, "expected Authenticode signer: sha256:HEX, cn:NAME, o:NAME or subject:DN (repeatable, any matches)")
	fl.BoolVar(&f.authSystemRoots, "authenticode-system-roots", false, "also trust the host's certificate store for Authenticode")
	fl.BoolVar(&f.requireAuth, "require-authenticode", false, "an unsigned PE file fails")
	fl.StringVar(&f.builderID, "builder-id", "", "expected provenance builder (SLSA builder.id / the signing workflow)")
	fl.StringVar(&f.sourceURI, "source-uri", "", "expected source repository of the provenance (github.com/o/r)")
	fl.StringVar(&f.sourceTag, "source-tag", "", "expected git tag the build ran from")
	fl.StringVar(&f.sourceBranch, "source-branch", "", "expected git branch the build ran from")
	fl.StringArrayVar(&f.predicateTypes, "predicate-type", nil, "accepted provenance predicate type (default: SLSA provenance v0.2 and v1)")
	fl.BoolVar(&f.requireProvenance, "require-provenance", false, "every file of the delivery's top level must have verified provenance")
	fl.BoolVar(&f.requireSigned, "require-signature", false, "every file of the delivery's top level must have a verified Sigstore signature or be listed in a verified manifest")
}

func newVerify(stdout, stderr io.Writer) *cobra.Command {
	var (
		in  inspectFlags
		out outputFlags
		vf  verifyFlags
	)
	cmd := &cobra.Command{
		Use:   "verify TARGET",
		Short: "Check every signature, provenance and checksum claim of a delivery against whom you trust",
		Long: `verify checks the trust claims a delivery carries, offline, against what the buyer
expects, and reports each as a check (pass, fail, skip with the reason, error):

  signature/sigstore      Sigstore bundles (.sigstore.json, .sigstore, .bundle), GitHub
                          attestations (.intoto.jsonl) and cosign .sig files beside the
                          files they sign, against --key or --certificate-identity with
                          --certificate-oidc-issuer, and the trusted root
  provenance/*            the in-toto statements those carry: subject digest, predicate
                          type, --builder-id, --source-uri, --source-tag/--source-branch
  checksum/*              SHA256SUMS-style manifests against every listed file, unlisted
  signature/openpgp       executables, and the manifests' OpenPGP signatures (--pgp-key)
  signature/authenticode  every PE file: digest, chain to --authenticode-root, signer,
                          time stamps, unsigned data

A valid signature by anyone the flags do not name fails: name whom you trust. The exit
code is 1 when any check fails or nothing could be verified, 2 when a check could not be
decided, 0 otherwise.`,
		Example: `  kensa verify release/ --certificate-identity-regexp '^https://github.com/acme/app/' \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com \
      --builder-id https://github.com/acme/app/.github/workflows/release.yml --source-uri github.com/acme/app
  kensa verify delivery/ --pgp-key vendor.asc --authenticode-root vendor-ca.pem --authenticode-signer 'o:Hoshizora Systems'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("verify needs one TARGET")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			v, err := vf.prepare()
			if err != nil {
				return err
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			opts.Keep = true
			inv, err := inventory.Take(cmd.Context(), args, opts)
			if err != nil {
				return walkError(err)
			}
			defer inv.Close()
			res := newResult(inv, opts)
			res.Checks = v.run(cmd.Context(), inv, opts)
			res.Checks = append(res.Checks, v.image(cmd.Context(), inv, opts)...)
			res.Artifacts = []result.Artifact{}
			if err := writeResult(stdout, out, res, nil); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			return verifyExit(res, stderr, in.quiet)
		},
	}
	in.register(cmd)
	out.register(cmd, "text", "json")
	vf.register(cmd)
	return cmd
}

// verifier holds the loaded trust material of one run.
type verifier struct {
	f         *verifyFlags
	trust     *sigstore.Trust
	pgp       *checksums.Keys
	auth      authenticode.Options
	exp       provenance.Expect
	bundles   map[string][]byte
	readLimit int64
}

func (f *verifyFlags) prepare() (*verifier, error) {
	v := &verifier{f: f, bundles: map[string][]byte{}}
	to := sigstore.TrustOptions{}
	for _, k := range f.keys {
		if sigstore.IsKMSURI(k) || signing.IsKMS(k) {
			// The public half of a KMS key, through its sigstore plugin when one is on
			// PATH; without one the key stays unverifiable and its checks say so.
			if key, err := signing.LoadKMS(context.Background(), k); err == nil {
				if pem, err := key.PublicKeyPEM(); err == nil {
					to.Keys = append(to.Keys, pem)
					continue
				}
			}
			if sigstore.IsKMSURI(k) {
				to.KMSKeys = append(to.KMSKeys, k)
				continue
			}
			return nil, usagef("--key %s: no sigstore plugin sigstore-kms-%s on PATH serves this key", k, strings.SplitN(k, "://", 2)[0])
		}
		b, err := readSmall(k, sigstore.MaxBundleSize)
		if err != nil {
			return nil, usagef("--key: %v", err)
		}
		to.Keys = append(to.Keys, b)
	}
	if f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" {
		if (f.identity == "") == (f.identityRegexp == "") || (f.issuer == "") == (f.issuerRegexp == "") {
			return nil, usagef("a keyless signer needs one of --certificate-identity or --certificate-identity-regexp and one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp")
		}
		to.Identities = []sigstore.Identity{{SAN: f.identity, SANRegexp: f.identityRegexp, Issuer: f.issuer, IssuerRegexp: f.issuerRegexp}}
	}
	to.Identities = append(to.Identities, f.identities...)
	if f.trustedRoot != "" {
		b, err := readSmall(f.trustedRoot, sigstore.MaxTrustedRootSize)
		if err != nil {
			return nil, usagef("--trusted-root: %v", err)
		}
		to.TrustedRootJSON = b
	}
	var err error
	if v.trust, err = sigstore.NewTrust(to); err != nil {
		return nil, usagef("%v", err)
	}
	for _, b := range f.bundles {
		data, err := readSmall(b, sigstore.MaxBundleSize)
		if err != nil {
			return nil, usagef("--bundle: %v", err)
		}
		v.bundles[b] = data
	}
	if len(f.pgpKeys) > 0 {
		if v.pgp, err = checksums.ReadKeyFiles(f.pgpKeys...); err != nil {
			return nil, usagef("--pgp-key: %v", err)
		}
	}
	if len(f.authRoots) > 0 || f.authSystemRoots {
		if v.auth.Roots, err = authenticode.LoadRoots(f.authRoots, f.authSystemRoots); err != nil {
			return nil, usagef("--authenticode-root: %v", err)
		}
	}
	if len(f.authTSARoots) > 0 {
		if v.auth.TSARoots, err = authenticode.LoadRoots(f.authTSARoots, false); err != nil {
			return nil, usagef("--authenticode-tsa-root: %v", err)
		}
	}
	for _, s := range f.authSigners {
		sg, err := authenticode.ParseSigner(s)
		if err != nil {
			return nil, usagef("--authenticode-signer: %v", err)
		}
		v.auth.Signers = append(v.auth.Signers, sg)
	}
	v.auth.RequireSignature = f.requireAuth
	v.exp = provenance.Expect{PredicateTypes: f.predicateTypes, BuilderID: f.builderID, SourceURI: f.sourceURI,
		SourceTag: f.sourceTag, SourceBranch: f.sourceBranch, Required: f.requireProvenance}
	v.readLimit = sigstore.MaxBundleSize
	return v, nil
}

func readSmall(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// run makes every check of the delivery.
func (v *verifier) run(ctx context.Context, inv *inventory.Inventory, opts inventory.Options) []result.Check {
	pool, _ := opts.Isolate.(*worker.Pool)
	type file struct {
		a result.Artifact
		s inventory.Stored
	}
	byPath := map[string]file{}
	var paths []string
	var files []checksums.File
	for i, a := range inv.Artifacts {
		if a.Hidden != "" || (a.Type != "file" && a.Type != "hardlink") {
			continue
		}
		st := inv.Stored[i]
		byPath[a.Path] = file{a, st}
		paths = append(paths, a.Path)
		files = append(files, checksums.File{Path: a.Path, SHA256: strings.TrimPrefix(a.Digest, "sha256:"),
			Executable: a.Executable(), Open: func() (io.ReadCloser, error) { return st.Open() }})
	}
	read := func(p string) ([]byte, error) {
		f, ok := byPath[p]
		if !ok {
			return nil, fmt.Errorf("%s is not in the delivery", p)
		}
		if f.a.Size > v.readLimit {
			return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, v.readLimit)
		}
		r, err := f.s.Open()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(io.LimitReader(r, v.readLimit+1))
	}

	var checks []result.Check
	// Checksum manifests and their OpenPGP signatures.
	d := checksums.NewDelivery(files)
	manifests := checksums.Discover(d)
	if len(manifests) > 0 || v.pgp != nil {
		// A worker parses each manifest and signature first: one built to exhaust memory
		// or hang stops it, and the document counts as unreadable.
		docScreen := func(p string, data []byte) error {
			return screen(ctx, pool, "checksum-document", p, bytes.NewReader(data), int64(len(data)))
		}
		checks = append(checks, checksums.Verify(d, checksums.Options{Keys: v.pgp, Now: time.Now(), Screen: docScreen})...)
	}
	listed := map[string]bool{}
	for _, c := range checks {
		if c.Name == checksums.CheckFile && c.Status == result.Pass {
			listed[c.Subject] = true
		}
	}

	// Sigstore signatures and attestations beside the files, and the provenance they carry.
	signed := map[string]bool{}
	withProvenance := map[string]bool{}
	verifyOne := func(a sigstore.Attachment, data func(string) ([]byte, error)) {
		f, ok := byPath[a.Artifact]
		if !ok {
			return
		}
		screened := func(p string) ([]byte, error) {
			b, err := data(p)
			if err == nil && p == a.Path {
				err = screen(ctx, pool, "sigstore-"+a.Kind, p, bytes.NewReader(b), int64(len(b)))
			}
			return b, err
		}
		cs, verified := sigstore.VerifyAttachment(a, screened, f.a.Digest, v.trust)
		checks = append(checks, cs...)
		for _, c := range cs {
			if c.Status == result.Pass {
				signed[a.Artifact] = true
			}
		}
		subject := provenance.Subject{Name: path.Base(a.Artifact), SHA256: strings.TrimPrefix(f.a.Digest, "sha256:"), DigestOnly: strings.Contains(a.Artifact, "!")}
		for _, vr := range verified {
			if vr == nil || vr.Statement == nil {
				continue
			}
			st, err := provenance.ParseStatement(vr.Statement.Raw)
			if err != nil {
				checks = append(checks, result.Check{Name: "provenance/statement", Subject: a.Artifact, Status: result.Erred, Detail: err.Error()})
				continue
			}
			if !v.exp.WantsPredicate(st.PredicateType) {
				continue
			}
			withProvenance[a.Artifact] = true
			signer := ""
			if vr.Keyless {
				signer = vr.SAN
			}
			checks = append(checks, provenance.Check(st, subject, v.exp, signer)...)
		}
	}
	for _, a := range sigstore.Discover(paths) {
		verifyOne(a, read)
	}
	if len(v.bundles) > 0 {
		target := ""
		if len(inv.Targets) == 1 && inv.Targets[0].Kind == "file" {
			target = path.Base(inv.Targets[0].Input)
		}
		if _, ok := byPath[target]; !ok {
			checks = append(checks, result.Check{Name: sigstore.CheckName, Subject: target, Status: result.Erred,
				Detail: "--bundle applies to a file TARGET; for a directory, put the bundle beside the file it signs"})
		} else {
			for name, data := range v.bundles {
				verifyOne(sigstore.Attachment{Artifact: target, Path: name, Kind: sigstore.KindBundle},
					func(string) ([]byte, error) { return data, nil })
			}
		}
	}

	// What must be there and is not: every file of a delivery's top level (an image's
	// files are not release files; its signatures are checked in image).
	isImage := len(inv.Targets) == 1 && inv.Targets[0].Image != nil
	for _, p := range paths {
		if isImage {
			break
		}
		if strings.Contains(p, "!") || isAttachment(p) {
			continue
		}
		f := byPath[p]
		if v.exp.Required && !withProvenance[p] {
			checks = append(checks, provenance.MissingChecks(provenance.Subject{Name: path.Base(p), SHA256: strings.TrimPrefix(f.a.Digest, "sha256:")}, v.exp)...)
		}
		if v.f.requireSigned && !signed[p] && !listed[p] {
			checks = append(checks, result.Check{Name: "signature/required", Subject: p, Status: result.Fail,
				Detail: "no verified Sigstore signature and no verified checksum manifest lists this file"})
		}
	}

	// Authenticode, for every PE file.
	for _, p := range paths {
		f := byPath[p]
		if f.a.Format != "pe" {
			continue
		}
		r, err := f.s.Open()
		if err == nil {
			if err = screen(ctx, pool, "authenticode", p, r, f.a.Size); err != nil {
				r.Close()
			}
		}
		if err != nil {
			checks = append(checks, result.Check{Name: authenticode.CheckName, Subject: p, Status: result.Erred, Detail: err.Error()})
			continue
		}
		checks = append(checks, authenticode.Check(p, r, f.a.Size, v.auth)...)
		r.Close()
	}
	// A checksum manifest signed with Sigstore (SHA256SUMS.sigstore.json, as kensa release
	// writes it) is signed: say so where the manifest check says it is not.
	for i, c := range checks {
		if c.Name == checksums.CheckManifest && c.Status == result.Pass && signed[c.Subject] {
			checks[i].Detail = strings.Replace(c.Detail, "the manifest is not signed, so this shows the files match it, not who made it",
				"the manifest's Sigstore signature verified", 1)
		}
	}
	slices.SortStableFunc(checks, func(a, b result.Check) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Name, b.Name))
	})
	return checks
}

// isAttachment reports the files that carry trust claims about other files.
func isAttachment(p string) bool {
	base := strings.ToLower(path.Base(p))
	for _, ext := range []string{".sigstore.json", ".sigstore", ".bundle", ".sig", ".pem", ".crt", ".cert", ".intoto.jsonl", ".asc", ".gpg", ".sign"} {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return checksums.IsManifestName(path.Base(p))
}

// verifyExit: a failed check, or nothing verified, is 1; a check that could not be
// decided, or a file that could not be inspected, is 2.
func verifyExit(res *result.Result, stderr io.Writer, quiet bool) error {
	var pass, fail, erred int
	for _, c := range res.Checks {
		switch c.Status {
		case result.Pass:
			pass++
		case result.Fail:
			fail++
		case result.Erred:
			erred++
		}
	}
	switch {
	case fail > 0:
		return &exitError{code: ExitFindings}
	case erred > 0 || len(res.Errors) > 0:
		return &exitError{code: ExitUndecided}
	case pass == 0:
		if !quiet {
			fmt.Fprintln(stderr, "kensa: nothing in the delivery could be verified: no signature, manifest or signed PE file passed")
		}
		return &exitError{code: ExitFindings}
	}
	return nil
}

// image checks the signatures and attestations attached to an image target in its
// registry.
func (v *verifier) image(ctx context.Context, inv *inventory.Inventory, opts inventory.Options) []result.Check {
	if len(inv.Targets) != 1 || inv.Targets[0].Image == nil {
		return nil
	}
	t := inv.Targets[0]
	ref, ok := strings.CutPrefix(t.Input, "registry:")
	if !ok {
		return []result.Check{{Name: sigstore.ImageCheckName, Subject: t.Input, Status: result.Skip,
			Detail: "signatures attached to an image are read from its registry: verify registry:REF to check them"}}
	}
	attached, err := image.Attachments(ctx, ref, t.Digest, image.Options{Limits: &opts.Limits, Keychain: opts.Keychain, Transport: opts.Transport})
	if err != nil {
		return []result.Check{{Name: sigstore.ImageCheckName, Subject: ref, Status: result.Erred, Detail: "reading what is attached to the image: " + err.Error()}}
	}
	subject := ref + "@" + t.Digest
	pool, _ := opts.Isolate.(*worker.Pool)
	var in []sigstore.ImageAttachment
	var unread []result.Check
	for _, a := range attached {
		sa := sigstore.ImageAttachment{Source: a.Source, Ref: a.Ref, ArtifactType: a.ArtifactType}
		for i, l := range a.Layers {
			layer := sigstore.ImageLayer{MediaType: l.MediaType, Annotations: l.Annotations, Data: l.Data}
			// A worker parses the layer first: one built to exhaust memory stops it.
			b, err := json.Marshal(layer)
			where := fmt.Sprintf("%s %s layer %d", a.Source, a.Ref, i)
			if err == nil {
				err = screen(ctx, pool, "sigstore-image-layer", where, bytes.NewReader(b), int64(len(b)))
			}
			if err != nil {
				unread = append(unread, result.Check{Name: sigstore.ImageCheckName, Subject: subject, Status: result.Erred, Detail: err.Error()})
				continue
			}
			sa.Layers = append(sa.Layers, layer)
		}
		in = append(in, sa)
	}
	if len(unread) > 0 {
		// What could not be read might be the signature: nothing about the image is decided.
		return unread
	}
	checks, attestations := sigstore.VerifyImage(subject, t.Digest, in, v.trust)
	found := false
	for _, a := range attestations {
		st, err := provenance.ParseStatement(a.Statement.Raw)
		if err != nil {
			checks = append(checks, result.Check{Name: "provenance/statement", Subject: subject, Status: result.Erred, Detail: err.Error()})
			continue
		}
		if !v.exp.WantsPredicate(st.PredicateType) {
			continue
		}
		found = true
		signer := ""
		if a.Keyless {
			signer = a.SAN
		}
		checks = append(checks, provenance.Check(st, provenance.Subject{Name: ref, SHA256: strings.TrimPrefix(t.Digest, "sha256:"), DigestOnly: true}, v.exp, signer)...)
	}
	if !found && v.exp.Required {
		checks = append(checks, provenance.MissingChecks(provenance.Subject{Name: ref, SHA256: strings.TrimPrefix(t.Digest, "sha256:"), DigestOnly: true}, v.exp)...)
	}
	return checks
}
