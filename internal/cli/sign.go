package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/attest/publish"
	"kensa.dev/kensa/attest/signing"
	"kensa.dev/kensa/attest/vsa"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/rules"
	"kensa.dev/kensa/sbom"
)

// PredicateScan is the predicate type of a kensa scan result attestation: the predicate
// is the result document (schema kensa.dev/result/v1).
const PredicateScan = "https://kensa.dev/attestation/scan/v1"

// signerFlags say how the release side signs.
type signerFlags struct {
	keyFlag   string
	key       string
	fulcio    string
	token     string
	rekor     string
	tsa       string
	allowHTTP bool
}

func (f *signerFlags) register(cmd *cobra.Command) { f.registerAs(cmd, "key") }

// registerAs registers the flags with the key flag under another name (accept's
// --sign-key).
func (f *signerFlags) registerAs(cmd *cobra.Command, keyFlag string) {
	f.keyFlag = keyFlag
	fl := cmd.Flags()
	fl.StringVar(&f.key, keyFlag, "", "signing key: a cosign key (password in COSIGN_PASSWORD), a PEM private key, or a KMS key NAME://KEY (sigstore plugin sigstore-kms-NAME on PATH)")
	fl.StringVar(&f.fulcio, "fulcio-url", "", "keyless: the Fulcio that certifies an ephemeral key for --identity-token (online)")
	fl.StringVar(&f.token, "identity-token", "", "keyless: the OIDC token (default: $SIGSTORE_ID_TOKEN)")
	fl.StringVar(&f.rekor, "rekor-url", "", "keyless: also log the signature in this Rekor (online)")
	fl.StringVar(&f.tsa, "timestamp-url", "", "keyless: an RFC 3161 timestamp authority to countersign (online)")
	fl.BoolVar(&f.allowHTTP, "allow-http-registry", false, "allow plain HTTP to a registry that is not on this machine")
}

func (f *signerFlags) signer() (publish.Signer, error) {
	switch {
	case f.key != "" && f.fulcio != "":
		return publish.Signer{}, usagef("give --%s or --fulcio-url, not both", f.keyFlag)
	case f.key != "":
		k, err := signing.LoadKey(f.key, []byte(os.Getenv("COSIGN_PASSWORD")))
		if err != nil {
			return publish.Signer{}, usagef("--%s: %v", f.keyFlag, err)
		}
		return publish.Signer{Key: k}, nil
	case f.fulcio != "":
		tok := f.token
		if tok == "" {
			tok = os.Getenv("SIGSTORE_ID_TOKEN")
		}
		if tok == "" {
			return publish.Signer{}, usagef("keyless signing needs --identity-token or $SIGSTORE_ID_TOKEN")
		}
		return publish.Signer{FulcioURL: f.fulcio, IDToken: tok, RekorURL: f.rekor, TSAURL: f.tsa}, nil
	}
	return publish.Signer{}, usagef("say how to sign: --%s KEY, or keyless with --fulcio-url and an identity token", f.keyFlag)
}

// set reports whether any way of signing was given.
func (f *signerFlags) set() bool { return f.key != "" || f.fulcio != "" }

func (f *signerFlags) registry() publish.RegistryOptions {
	return publish.RegistryOptions{AllowHTTP: f.allowHTTP}
}

// imageRef is the image reference a target names, or "" for a file: registry:REF, or a
// reference with a registry host (ghcr.io/org/app:1.2, localhost:5000/app@sha256:…)
// when no file has that name.
func imageRef(target string) string {
	if ref, ok := strings.CutPrefix(target, "registry:"); ok {
		return ref
	}
	if _, err := os.Lstat(target); err == nil {
		return ""
	}
	host, rest, ok := strings.Cut(target, "/")
	if ok && rest != "" && (strings.ContainsAny(host, ".:") || host == "localhost") {
		if _, err := name.ParseReference(target); err == nil {
			return target
		}
	}
	return ""
}

func newSign(stdout io.Writer) *cobra.Command {
	var sf signerFlags
	cmd := &cobra.Command{
		Use:   "sign ARTIFACT...",
		Short: "Sign files into Sigstore bundles and images in their registry, as cosign does",
		Long: `sign signs each ARTIFACT for a release:

  a file is signed into a Sigstore bundle written beside it as FILE.sigstore.json, which
  'cosign verify-blob --bundle' and 'kensa verify' check;
  registry:REF (or a reference with a registry host: ghcr.io/org/app:1.2) signs the image in its registry exactly as cosign v3 does (an in-toto
  statement about the manifest digest in a DSSE bundle, stored as an OCI 1.1 referrer),
  which 'cosign verify' and 'kensa verify registry:REF' check.

Sign with --key (a cosign key pair's private key, a PEM key, or a KMS key through its
sigstore plugin), or keyless with --fulcio-url and an OIDC identity token (online).`,
		Example: `  kensa sign --key cosign.key app-1.2.tar.gz app-1.2.tar.gz.sha256
  kensa sign --key cosign.key registry:registry.example.org/app:1.2`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("sign needs at least one ARTIFACT")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.signer()
			if err != nil {
				return err
			}
			for _, a := range args {
				if ref := imageRef(a); ref != "" {
					att, err := publish.SignImage(cmd.Context(), s, ref, sf.registry())
					if err != nil {
						return &exitError{code: ExitUndecided, err: fmt.Errorf("%s: %w", a, err)}
					}
					fmt.Fprintf(stdout, "signed %s: signature %s\n", att.Image, att.Referrer)
					continue
				}
				out, err := signFile(cmd.Context(), s, a)
				if err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				fmt.Fprintf(stdout, "signed %s: %s\n", a, out)
			}
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}

// signFile signs a file into FILE.sigstore.json.
func signFile(ctx context.Context, s publish.Signer, name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file; sign files one by one, or a directory with kensa release", name)
	}
	b, err := publish.SignBlob(ctx, s, f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	out := name + ".sigstore.json"
	return out, writeFile(out, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// attestKinds are the attestations kensa makes from its own run of a target.
var attestKinds = []string{"sbom", "scan"}

// predicateOf runs kensa over a target and returns the predicate of each kind asked for:
// the CycloneDX SBOM and the scan result.
// It returns the target's digest too, from the same pass.
func predicateOf(ctx context.Context, target string, kinds []string, opts inventory.Options, eng *rules.Engine, prep *sbom.Prepared) (map[string][]byte, string, error) {
	var cdx bytes.Buffer
	res, err := inspectAll(ctx, target, opts, eng, prep, func(s *sbom.SBOM) error { return sbom.Encode(&cdx, s, sbom.CycloneDXJSON) })
	if err != nil {
		return nil, "", err
	}
	if len(res.Errors) > 0 {
		return nil, "", &exitError{code: ExitUndecided, err: fmt.Errorf("%s: %d entries could not be inspected (%s: %s); an attestation of it would claim more than was seen",
			target, len(res.Errors), res.Errors[0].Path, res.Errors[0].Error)}
	}
	out := map[string][]byte{}
	for _, k := range kinds {
		switch k {
		case "sbom":
			out[k] = cdx.Bytes()
		case "scan":
			for i := range res.Artifacts {
				res.Artifacts[i].Profile = nil
			}
			var b bytes.Buffer
			if err := render.JSON(&b, res); err != nil {
				return nil, "", err
			}
			out[k] = b.Bytes()
		}
	}
	return out, res.Target.Digest, nil
}

var predicateTypes = map[string]string{"sbom": publish.PredicateCycloneDX, "scan": PredicateScan}

// predicateFrom reads the predicate of a vsa or provenance attestation from --from. A VSA
// comes from an accept result, which must be about TARGET when TARGET is a file.
func predicateFrom(kind, from, target string) ([]byte, string, error) {
	if kind == "provenance" {
		b, err := readSmall(from, publish.MaxStatementSize)
		if err != nil {
			return nil, "", &exitError{code: ExitUndecided, err: err}
		}
		return b, publish.PredicateSLSA1, nil
	}
	res, _, _, err := readSaved(from)
	if err != nil {
		return nil, "", &exitError{code: ExitUndecided, err: err}
	}
	if res == nil || res.Verdict == "" {
		return nil, "", usagef("--from %s: not the result.json of a kensa accept (it has no verdict)", from)
	}
	if imageRef(target) == "" {
		d, err := fileDigest(target)
		if err != nil {
			return nil, "", &exitError{code: ExitUndecided, err: err}
		}
		if d != res.Target.Digest {
			return nil, "", usagef("--from %s judged %s (%s), not %s (%s)", from, res.Target.Input, res.Target.Digest, target, d)
		}
	}
	st, err := vsa.Summary(res, nil, time.Now())
	if err != nil {
		return nil, "", err
	}
	var statement struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(st, &statement); err != nil {
		return nil, "", err
	}
	return statement.Predicate, publish.PredicateVSA, nil
}

// attestFile signs a statement about one file (digest "sha256:HEX") into
// FILE.KIND.sigstore.json.
func attestFile(ctx context.Context, s publish.Signer, name, digest, kind, predicateType string, predicate []byte) (string, error) {
	hexDigest, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return "", fmt.Errorf("%s: no sha256 digest", name)
	}
	st, err := publish.Statement(predicateType, predicate, publish.Subject{Name: filepath.Base(name), Digest: map[string]string{"sha256": hexDigest}})
	if err != nil {
		return "", err
	}
	bundle, err := publish.AttestBlob(ctx, s, st)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	out := name + "." + kind + ".sigstore.json"
	return out, writeFile(out, func(w io.Writer) error { _, err := w.Write(bundle); return err })
}

// fileDigest is "sha256:HEX" of a file, read once as a stream.
func fileDigest(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// addAttestCommand makes `kensa attest TARGET`: the attestation of a kensa run, or of a
// given predicate, signed and written beside the file or attached to the image.
func addAttestCommand(cmd *cobra.Command, stdout, stderr io.Writer) {
	var (
		sf        signerFlags
		in        inspectFlags
		rf        ruleFlags
		predicate string
		typ       string
		from      string
	)
	cmd.Use = "attest TARGET --predicate sbom|scan|vsa|provenance|FILE --key KEY | attest verify BUNDLE --key PUB [TARGET]"
	cmd.Short = "Sign an attestation about a file or image (its SBOM, its scan, or a predicate you give); verify one"
	cmd.Long = `attest makes a signed in-toto attestation about TARGET, a file or registry:REF:

  --predicate sbom   the CycloneDX SBOM kensa makes from TARGET's bytes
  --predicate scan   kensa's scan result of TARGET (schema kensa.dev/result/v1, predicate
                     type ` + PredicateScan + `)
  --predicate vsa    the SLSA verification summary of a kensa accept of TARGET, from its
                     result.json (--from)
  --predicate provenance
                     the SLSA v1 provenance predicate in --from
  --predicate FILE   a predicate you give, with --type (cyclonedx, spdxjson, slsaprovenance1,
                     vsa, test-result or a predicate type URI)

A file's attestation is written beside it as FILE.KIND.sigstore.json ('cosign
verify-blob-attestation --bundle' and 'kensa verify' check it); an image's is attached in
its registry as cosign v3 attaches one ('cosign verify-attestation' checks it).

'kensa attest verify' checks the attestations 'kensa accept --sign-key' writes.`
	cmd.Example = `  kensa attest app-1.2.tar.gz --predicate sbom --key cosign.key
  kensa attest registry:registry.example.org/app:1.2 --predicate scan --key cosign.key
  kensa attest app-1.2.tar.gz --predicate provenance.json --type slsaprovenance1 --key cosign.key`
	cmd.Args = func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("attest needs one TARGET (or: attest verify BUNDLE)")
		}
		if predicate == "" {
			return usagef("attest needs --predicate sbom, scan or a predicate FILE")
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		target := args[0]
		s, err := sf.signer()
		if err != nil {
			return err
		}
		var (
			pred   []byte
			digest string // of a file TARGET, when a run of kensa read it
		)
		kind := predicate
		predType := predicateTypes[predicate]
		switch {
		case predicate == "vsa" || predicate == "provenance":
			if from == "" {
				return usagef("--predicate %s needs --from: %s", predicate, map[string]string{
					"vsa": "the result.json of the kensa accept that judged TARGET", "provenance": "the SLSA provenance predicate (JSON)"}[predicate])
			}
			if pred, predType, err = predicateFrom(predicate, from, target); err != nil {
				return err
			}
		case predType == "":
			if typ == "" {
				return usagef("--predicate %s is a file: give its --type", predicate)
			}
			if predType, err = publish.PredicateType(typ); err != nil {
				return usagef("--type: %v", err)
			}
			if pred, err = readSmall(predicate, publish.MaxStatementSize); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			kind = "att"
		default:
			if typ != "" {
				return usagef("--type goes with a predicate file; %s has its own", predicate)
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			_, eng, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			inspect := target
			if ref := imageRef(target); ref != "" {
				inspect = "registry:" + ref
			}
			prep := catalogWhereWalked(cmd.Context(), &opts)
			preds, d, err := predicateOf(cmd.Context(), inspect, []string{predicate}, opts, eng, prep)
			if err != nil {
				return err
			}
			pred, digest = preds[predicate], d
		}
		if ref := imageRef(target); ref != "" {
			att, err := publish.AttestImage(cmd.Context(), s, ref, predType, pred, sf.registry())
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			fmt.Fprintf(stdout, "attested %s (%s): attestation %s\n", att.Image, predType, att.Referrer)
			return nil
		}
		if digest == "" {
			if digest, err = fileDigest(target); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
		}
		out, err := attestFile(cmd.Context(), s, target, digest, kind, predType, pred)
		if err != nil {
			return &exitError{code: ExitUndecided, err: err}
		}
		fmt.Fprintf(stdout, "attested %s (%s): %s\n", target, predType, out)
		return nil
	}
	sf.register(cmd)
	in.register(cmd)
	rf.register(cmd)
	cmd.Flags().StringVar(&predicate, "predicate", "", "sbom, scan, vsa, provenance (both with --from), or a predicate file (with --type)")
	cmd.Flags().StringVar(&from, "from", "", "with --predicate vsa: the result.json of kensa accept; with provenance: the provenance predicate")
	cmd.Flags().StringVar(&typ, "type", "", "the predicate type of a predicate file: cyclonedx, spdxjson, slsaprovenance1, vsa, test-result or a URI")
}

func newRelease(stdout, stderr io.Writer) *cobra.Command {
	var (
		sf     signerFlags
		in     inspectFlags
		rf     ruleFlags
		images []string
	)
	cmd := &cobra.Command{
		Use:   "release DIR [--image REF]... --key KEY",
		Short: "Sign a whole release: every file's signature, SBOM and scan attestations, a signed SHA256SUMS",
		Long: `release signs a release in one command, for a vendor's pipeline. For every file of DIR
(its top level; files that are already signatures or manifests are left alone) it writes
beside the file:

  FILE.sigstore.json        the signature (cosign verify-blob --bundle)
  FILE.sbom.sigstore.json   the CycloneDX SBOM kensa makes from the file, as a signed
                            attestation (cosign verify-blob-attestation --type cyclonedx)
  FILE.scan.sigstore.json   kensa's scan result of the file, as a signed attestation

then SHA256SUMS of the files and its signature SHA256SUMS.sigstore.json. Each --image
registry reference is signed and gets the same two attestations in its registry.
'kensa verify DIR --key PUB' (and 'kensa accept' with the key in its policy) checks it all.

A file that could not be inspected fully stops the release (exit 2): an attestation must
not claim more than was seen.`,
		Example: `  kensa release ./dist --key cosign.key
  kensa release ./dist --image registry.example.org/app:1.2 --key cosign.key`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("release needs one DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.signer()
			if err != nil {
				return err
			}
			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			_, eng, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			files, err := releaseFiles(args[0])
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			if len(files) == 0 && len(images) == 0 {
				return usagef("%s has no files to release", args[0])
			}
			ctx := cmd.Context()
			prep := catalogWhereWalked(ctx, &opts) // built once for every file and image
			var sums strings.Builder
			for _, name := range files {
				out, err := signFile(ctx, s, name)
				if err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				fmt.Fprintf(stdout, "signed   %s\n", out)
				preds, digest, err := predicateOf(ctx, "file:"+name, attestKinds, opts, eng, prep)
				if err != nil {
					return err
				}
				for _, k := range attestKinds {
					out, err := attestFile(ctx, s, name, digest, k, predicateTypes[k], preds[k])
					if err != nil {
						return &exitError{code: ExitUndecided, err: err}
					}
					fmt.Fprintf(stdout, "attested %s\n", out)
				}
				fmt.Fprintf(&sums, "%s  %s\n", strings.TrimPrefix(digest, "sha256:"), filepath.Base(name))
			}
			if len(files) > 0 {
				manifest := filepath.Join(args[0], "SHA256SUMS")
				if err := writeFile(manifest, func(w io.Writer) error { _, err := io.WriteString(w, sums.String()); return err }); err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				out, err := signFile(ctx, s, manifest)
				if err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				fmt.Fprintf(stdout, "signed   %s\n", out)
			}
			for _, ref := range images {
				att, err := publish.SignImage(ctx, s, ref, sf.registry())
				if err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("%s: %w", ref, err)}
				}
				fmt.Fprintf(stdout, "signed   %s\n", att.Image)
				preds, _, err := predicateOf(ctx, "registry:"+att.Image, attestKinds, opts, eng, prep)
				if err != nil {
					return err
				}
				for _, k := range attestKinds {
					a, err := publish.AttestImage(ctx, s, att.Image, predicateTypes[k], preds[k], sf.registry())
					if err != nil {
						return &exitError{code: ExitUndecided, err: err}
					}
					fmt.Fprintf(stdout, "attested %s (%s)\n", a.Image, predicateTypes[k])
				}
			}
			return nil
		},
	}
	sf.register(cmd)
	in.register(cmd)
	rf.register(cmd)
	cmd.Flags().StringArrayVar(&images, "image", nil, "also sign and attest this image in its registry (repeatable)")
	return cmd
}

// releaseFiles are the regular files of a release directory's top level, less the
// signatures, attestations and manifests a release writes or carries.
func releaseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() || isAttachment(e.Name()) {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	slices.Sort(out)
	return out, nil
}
