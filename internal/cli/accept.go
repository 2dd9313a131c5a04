package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/inventory"
	textscan "kensa.dev/kensa/analyzers/strings"
	"kensa.dev/kensa/attest/authenticode"
	"kensa.dev/kensa/attest/checksums"
	"kensa.dev/kensa/attest/publish"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/attest/vsa"
	"kensa.dev/kensa/diff"
	"kensa.dev/kensa/internal/glob"
	"kensa.dev/kensa/internal/policy"
	"kensa.dev/kensa/internal/render"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/internal/version"
	"kensa.dev/kensa/rules"
	"kensa.dev/kensa/sbom"
)

func newAccept(stdout, stderr io.Writer) *cobra.Command {
	var (
		in         inspectFlags
		policyFile string
		outDir     string
		lang       string
		sf         signerFlags
	)
	cmd := &cobra.Command{
		Use:   "accept TARGET --out DIR [--policy FILE]",
		Short: "Accept or reject a delivery: every check, one verdict, the evidence in a directory",
		Long: `accept runs everything kensa does on a delivery in one pass over its bytes: the
inventory, the analyzers and rule packs, the SBOM and its reconciliation with the vendor's,
the verification of every signature, provenance and checksum claim against the policy's
trust, and the policy's declarations (the manifest of delivered files, the network
destinations the software is specified to contact). It decides PASS or FAIL:

  FAIL when a check fails or could not be decided, a finding at or above the policy's
  threshold has no valid waiver, or a file could not be inspected; every reason is listed.
  PASS lists what was not checked, so that nobody reads more into it than was proven.

It writes to DIR: result.json (kensa's result with the verdict), report.html (one
self-contained page for the people who sign off, in Japanese with --lang ja), report.md,
result.sarif, junit.xml, sbom.cdx.json and sbom.spdx.json, and the attestations: the
verdict as a SLSA verification summary, every check as an in-toto test result and the
SBOM, each an in-toto statement whose subjects are every delivered file's digest, signed
with --sign-key into Sigstore bundles (*.sigstore.json) that 'kensa attest verify' and
'cosign verify-blob-attestation --bundle' check offline. Without --policy the built-in default policy
applies: the built-in rule packs failing at high, and nobody trusted, so that any signature
offered fails until the policy names the signer. 'kensa policy init' writes a starter.

Exit codes: 0 PASS; 1 FAIL; 2 could not decide (bad flags or policy, an unreadable target,
or a FAIL that rests only on what could not be inspected).`,
		Example: `  kensa policy init > acceptance.yaml
  kensa accept ./delivery-3.2 --policy acceptance.yaml --out ./evidence-3.2`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("accept needs one TARGET")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return usagef("accept needs --out DIR for the evidence")
			}
			if lang != "en" && lang != "ja" {
				return usagef("--lang %q: want ja or en", lang)
			}
			pol := policy.Default()
			if policyFile != "" {
				p, err := policy.Load(policyFile)
				if err != nil {
					return usagef("policy: %v", err)
				}
				pol = p
			}
			threshold, _ := result.ParseSeverity(pol.Rules.FailOn)

			// Trust and rules first: a mistake in them stops before the long walk.
			vf := verifyFlagsOf(pol)
			v, err := vf.prepare()
			if err != nil {
				return err
			}
			rf := ruleFlags{dirs: pol.Paths(pol.Rules.Packs), noBuiltin: pol.Rules.Builtin != nil && !*pol.Rules.Builtin, disable: pol.Rules.Disable}
			_, eng, err := rf.load(ExitUndecided)
			if err != nil {
				return err
			}
			var vendor *sbom.Declared
			if pol.SBOM.Vendor != "" {
				if vendor, err = readDeclared(cmd.Context(), &in, pol.Path(pol.SBOM.Vendor)); err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("policy sbom.vendor: %w", err)}
				}
			}
			var manifest *checksums.Manifest
			if pol.Declarations.Manifest != "" {
				b, err := readSmall(pol.Path(pol.Declarations.Manifest), checksums.MaxManifestSize)
				if err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("policy declarations.manifest: %w", err)}
				}
				if manifest, err = checksums.Parse(pol.Declarations.Manifest, b); err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("policy declarations.manifest: %w", err)}
				}
			}
			var (
				baseline       *result.Result
				baselineDigest string
			)
			if pol.Baseline != "" {
				if baseline, baselineDigest, err = readBaseline(pol.Path(pol.Baseline)); err != nil {
					return &exitError{code: ExitUndecided, err: fmt.Errorf("policy baseline: %w", err)}
				}
			}
			var signer *publish.Signer
			if sf.set() {
				s, err := sf.signer()
				if err != nil {
					return err
				}
				signer = &s
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}

			opts, err := in.options(stderr)
			if err != nil {
				return err
			}
			opts.Keep = true
			opts.Analyzers = unionAnalyzers(append(append(eng.Needs(), eng.MatchAnalyzer()), append(sbom.Analyzers(), textscan.New())...))
			prep := catalogWhereWalked(cmd.Context(), &opts)
			inv, err := inventory.Take(cmd.Context(), args, opts)
			if err != nil {
				return walkError(err)
			}
			defer inv.Close()

			ver, _ := version.Get()
			s, err := sbom.Generate(cmd.Context(), inv, sbom.Options{ToolVersion: ver, Prepared: prep})
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			var findings []result.Finding
			findings = append(findings, endpointFindings(inv, pol)...)
			if vendor != nil {
				findings = append(findings, sbom.Reconcile(s, inv, vendor)...)
			}
			findings = append(findings, forbiddenFindings(s, pol)...)
			if manifest != nil {
				findings = append(findings, manifestFindings(inv, manifest, pol.Declarations.Manifest)...)
			}
			// Verification first: its results are the trust facts the rules read.
			checks := v.run(cmd.Context(), inv, opts)
			checks = append(checks, v.image(cmd.Context(), inv, opts)...)
			keepProfiles(inv)
			ruled, rerrs := judge(cmd.Context(), eng, inv, trustOf(inv, checks))
			findings = append(findings, ruled...)
			inv.Errors = append(inv.Errors, rerrs...)

			res := newResult(inv, opts)
			res.Checks = checks
			res.Policy = &result.PolicyRef{File: pol.File, Digest: pol.Digest, FailOn: pol.Rules.FailOn}
			res.Components = s.ResultComponents(inv)
			var changes *diff.Report
			if baseline != nil {
				now := *res
				now.Findings = findings
				changes = diff.Compare(baseline, &now, diff.Options{Declared: pol.Declared})
				res.Baseline = &result.BaselineRef{File: pol.Baseline, Digest: baselineDigest, Target: baseline.Target, Changes: map[string]int{}}
				for level, n := range changes.Summary.Risk {
					res.Baseline.Changes[string(level)] = n
				}
				findings = append(findings, baselineFindings(changes)...)
			}
			decide(res, findings, inv, pol, threshold, vendor != nil, time.Now())

			extras := render.ReportExtras{Lang: lang, Components: map[string]int{}, Executables: len(s.Executables),
				Unaccounted: s.UnaccountedCount(), Generated: time.Now()}
			for _, c := range s.Components() {
				extras.Components[c.Type]++
			}
			files, err := writeEvidence(outDir, res, s, append(ruleInfos(eng), sbomRuleInfos()...), threshold, extras)
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			att, signed, err := writeAttestations(cmd.Context(), outDir, res, threshold, signer)
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			files = append(files, att...)
			if changes != nil {
				diffFiles, err := writeBaselineDiff(outDir, changes, pol.Baseline, args[0])
				if err != nil {
					return &exitError{code: ExitUndecided, err: err}
				}
				files = append(files, diffFiles...)
			}
			printVerdict(stdout, res, files)
			if !signed {
				fmt.Fprintln(stdout, "The attestations are not signed: give --sign-key to sign them.")
			}
			return acceptExit(res)
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&policyFile, "policy", "", "the acceptance policy (default: the built-in strict policy)")
	cmd.Flags().StringVar(&outDir, "out", "", "directory for the evidence: result.json, report.md, result.sarif, junit.xml, the SBOMs")
	sf.registerAs(cmd, "sign-key")
	cmd.Flags().StringVar(&lang, "lang", "en", "language of report.html: ja (検収報告書) or en")
	return cmd
}

// verifyFlagsOf turns the policy's trust into the verify command's expectations.
func verifyFlagsOf(p *policy.Policy) *verifyFlags {
	t := p.Trust
	f := &verifyFlags{
		keys:              p.Paths(t.Sigstore.Keys),
		trustedRoot:       p.Path(t.Sigstore.TrustedRoot),
		pgpKeys:           p.Paths(t.OpenPGP.Keys),
		authRoots:         p.Paths(t.Authenticode.Roots),
		authTSARoots:      p.Paths(t.Authenticode.TSARoots),
		authSigners:       t.Authenticode.Signers,
		authSystemRoots:   t.Authenticode.SystemRoots,
		requireAuth:       t.Authenticode.Required,
		builderID:         p.Provenance.BuilderID,
		sourceURI:         p.Provenance.SourceURI,
		sourceTag:         p.Provenance.SourceTag,
		sourceBranch:      p.Provenance.SourceBranch,
		predicateTypes:    p.Provenance.PredicateTypes,
		requireProvenance: p.Provenance.Required,
		requireSigned:     p.Signatures.Required,
	}
	for _, id := range t.Sigstore.Identities {
		f.identities = append(f.identities, sigstore.Identity{SAN: id.Identity, SANRegexp: id.IdentityRegexp, Issuer: id.Issuer, IssuerRegexp: id.IssuerRegexp})
	}
	return f
}

// unionAnalyzers keeps the first analyzer of each name: list the rule engine's Needs
// first, which may ask for a listing variant (analyzers.Lister).
func unionAnalyzers(list []analyzers.Analyzer) []analyzers.Analyzer {
	var out []analyzers.Analyzer
	seen := map[string]bool{}
	for _, a := range list {
		if !seen[a.Name()] {
			seen[a.Name()] = true
			out = append(out, a)
		}
	}
	return out
}

// referenceHosts name documents, not destinations: XML namespaces, schemas and licence
// texts that programs carry as identifiers.
var referenceHosts = []string{"www.w3.org", "w3.org", "schemas.xmlsoap.org", "schemas.openxmlformats.org",
	"schemas.microsoft.com", "purl.org", "ns.adobe.com", "www.apache.org", "www.gnu.org", "gnu.org",
	"opensource.org", "creativecommons.org", "xmlns.com", "json-schema.org"}

// networkSchemes are the URL schemes that name a network destination.
var networkSchemes = []string{"http", "https", "ws", "wss", "ftp", "ftps", "tcp", "udp", "tls", "ssl", "grpc", "mqtt", "mqtts", "amqp", "amqps", "ldap", "ldaps", "smtp", "ssh", "sftp", "redis", "postgres", "postgresql", "mysql", "mongodb"}

// endpointFindings reports network destinations found in executables and scripts that
// the policy does not declare.
func endpointFindings(inv *inventory.Inventory, pol *policy.Policy) []result.Finding {
	var out []result.Finding
	for _, a := range inv.Artifacts {
		if a.Hidden != "" || !a.Executable() {
			continue
		}
		f, ok := a.Facts["strings"].(*textscan.Facts)
		if !ok || f == nil {
			continue
		}
		var hosts []string
		for _, u := range f.Indicators.URLs.Items {
			host := urlHost(u)
			if host == "" || !slices.Contains(networkSchemes, u.Scheme) || slices.Contains(referenceHosts, host) {
				continue
			}
			if !pol.Declared(host) && !slices.Contains(hosts, host) {
				hosts = append(hosts, host)
				out = append(out, result.Finding{Rule: "policy/undeclared-endpoint", Severity: result.High, Path: a.Path,
					Message:  fmt.Sprintf("%s contacts %s, which the declaration does not list", a.Path, host),
					Evidence: []string{fmt.Sprintf("%s at offset %d", u.Value, u.Offset)}})
			}
		}
		goBinary := a.Facts["go"] != nil
		for _, d := range f.Indicators.Domains.Items {
			if !diff.StandaloneDestination(d.Value, goBinary) || slices.Contains(referenceHosts, d.Value) || pol.Declared(d.Value) || slices.Contains(hosts, d.Value) {
				continue
			}
			hosts = append(hosts, d.Value)
			out = append(out, result.Finding{Rule: "policy/undeclared-endpoint", Severity: result.High, Path: a.Path,
				Message:  fmt.Sprintf("%s names the host %s, which the declaration does not list", a.Path, d.Value),
				Evidence: []string{fmt.Sprintf("%s at offset %d", d.Value, d.Offset)}})
		}
		for _, ip := range f.Indicators.IPv4.Items {
			if ip.Scope == "public" && !pol.Declared(ip.Value) && !slices.Contains(hosts, ip.Value) {
				hosts = append(hosts, ip.Value)
				out = append(out, result.Finding{Rule: "policy/undeclared-endpoint", Severity: result.High, Path: a.Path,
					Message:  fmt.Sprintf("%s holds the public address %s, which the declaration does not list", a.Path, ip.Value),
					Evidence: []string{fmt.Sprintf("%s at offset %d", ip.Value, ip.Offset)}})
			}
		}
	}
	return out
}

// urlHost is a URL indicator's host: the analyzer's when it recognised a public domain or
// an address, else the URL's own (a name under .example, .internal or .corp is a
// destination too).
func urlHost(u textscan.Indicator) string {
	if u.Host != "" {
		return u.Host
	}
	if u.Redacted {
		return ""
	}
	p, err := url.Parse(u.Value)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

// forbiddenFindings reports components the policy forbids.
func forbiddenFindings(s *sbom.SBOM, pol *policy.Policy) []result.Finding {
	var out []result.Finding
	components := s.Components()
	for _, pat := range pol.SBOM.Forbidden {
		g, err := glob.Compile(pat)
		if err != nil {
			continue // checked when the policy was read
		}
		for _, c := range components {
			if g.Match(c.Name+"@"+c.Version) || (c.PURL != "" && g.Match(c.PURL)) {
				out = append(out, result.Finding{Rule: "policy/forbidden-component", Severity: result.Critical,
					Message:  fmt.Sprintf("%s %s is in the delivery; the policy forbids %q", c.Name, c.Version, pat),
					Evidence: []string{cmp.Or(c.PURL, c.Name+"@"+c.Version)}})
			}
		}
	}
	return out
}

// manifestFindings compares the delivery's top-level files with the declared manifest.
func manifestFindings(inv *inventory.Inventory, m *checksums.Manifest, name string) []result.Finding {
	var out []result.Finding
	digest := map[string]string{}
	for _, a := range inv.Artifacts {
		if a.Hidden == "" && !strings.Contains(a.Path, "!") && (a.Type == "file" || a.Type == "hardlink") {
			digest[a.Path] = a.Digest
		}
	}
	listed := map[string]bool{}
	for _, e := range m.Entries {
		p := path.Clean(e.Name)
		listed[p] = true
		got, ok := digest[p]
		switch {
		case !ok:
			out = append(out, result.Finding{Rule: "policy/missing-file", Severity: result.High, Path: p,
				Message: fmt.Sprintf("the declared manifest %s lists %s, which is not in the delivery", name, p)})
		case e.Algorithm == checksums.SHA256 && got != "sha256:"+e.Digest:
			out = append(out, result.Finding{Rule: "policy/digest-mismatch", Severity: result.Critical, Path: p,
				Message:  fmt.Sprintf("%s differs from the declared manifest %s", p, name),
				Evidence: []string{"declared sha256:" + e.Digest, "delivered " + got}})
		}
	}
	for p := range digest {
		if !listed[p] {
			out = append(out, result.Finding{Rule: "policy/undeclared-file", Severity: result.High, Path: p,
				Message: fmt.Sprintf("%s is in the delivery but not in the declared manifest %s", p, name)})
		}
	}
	return out
}

// decide applies the waivers and sets the verdict, its reasons and what was not checked.
func decide(res *result.Result, findings []result.Finding, inv *inventory.Inventory, pol *policy.Policy, threshold result.Severity, vendorSBOM bool, now time.Time) {
	digests := map[string]string{}
	for _, a := range inv.Artifacts {
		digests[a.Path] = a.Digest
	}
	slices.SortStableFunc(findings, func(a, b result.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Rule, b.Rule))
	})
	var reasons []string
	for i := range findings {
		f := &findings[i]
		w, expired := pol.Waive(*f, digests[f.Path], now)
		if w != nil {
			f.Waiver = &result.Waiver{Reason: w.Reason, Approver: w.Approver, Expires: w.Expires}
			continue
		}
		if f.Severity.Rank() < threshold.Rank() {
			continue
		}
		msg := f.Message
		if f.Path != "" && !strings.Contains(msg, f.Path) {
			msg = f.Path + ": " + msg
		}
		reason := fmt.Sprintf("%s finding %s: %s", f.Severity, f.Rule, msg)
		for _, e := range expired {
			reason += fmt.Sprintf(" (the waiver approved by %s expired on %s and no longer applies)", e.Approver, e.Expires)
		}
		reasons = append(reasons, reason)
	}
	res.Findings = findings
	res.Summary.Findings = len(findings)
	for _, c := range res.Checks {
		switch c.Status {
		case result.Fail:
			reasons = append(reasons, fmt.Sprintf("check %s failed for %s: %s", c.Name, c.Subject, c.Detail))
		case result.Erred:
			reasons = append(reasons, fmt.Sprintf("check %s could not be decided for %s: %s", c.Name, c.Subject, c.Detail))
		}
	}
	for _, e := range res.Errors {
		reasons = append(reasons, fmt.Sprintf("%s could not be inspected (%s): %s", e.Path, e.Kind, e.Error))
	}
	res.Reasons = reasons
	res.Verdict = "pass"
	if len(reasons) > 0 {
		res.Verdict = "fail"
	}

	has := func(prefix string) bool {
		return slices.ContainsFunc(res.Checks, func(c result.Check) bool { return strings.HasPrefix(c.Name, prefix) && c.Status == result.Pass })
	}
	var nc []string
	if !has("signature/") && !has("checksum/") {
		nc = append(nc, render.NoSignature)
	}
	if !has("provenance/") {
		nc = append(nc, render.NoProvenance)
	}
	if !vendorSBOM {
		nc = append(nc, render.NoVendorSBOM)
	}
	if pol.Declarations.Manifest == "" {
		nc = append(nc, render.NoManifest)
	}
	if len(pol.Declarations.NetworkDestinations) == 0 {
		nc = append(nc, render.NoDestinations)
	}
	if res.Baseline == nil {
		nc = append(nc, render.NoBaseline)
	}
	res.NotChecked = nc
}

// writeEvidence writes the evidence files and returns their paths.
func writeEvidence(dir string, res *result.Result, s *sbom.SBOM, rules []render.RuleInfo, threshold result.Severity, extras render.ReportExtras) ([]string, error) {
	outputs := []struct {
		name  string
		write func(io.Writer) error
		sbom  bool // written one after the other, as both encoders read the same SBOM model
	}{
		{"result.json", func(w io.Writer) error { return render.JSON(w, res) }, false},
		{"report.html", func(w io.Writer) error { return render.HTML(w, res, extras) }, false},
		{"report.md", func(w io.Writer) error { return render.Markdown(w, res, rules) }, false},
		{"result.sarif", func(w io.Writer) error { return render.SARIF(w, res, rules) }, false},
		{"junit.xml", func(w io.Writer) error { return render.JUnit(w, res, threshold) }, false},
		{"sbom.cdx.json", func(w io.Writer) error { return sbom.Encode(w, s, sbom.CycloneDXJSON) }, true},
		{"sbom.spdx.json", func(w io.Writer) error { return sbom.Encode(w, s, sbom.SPDXJSON) }, true},
	}
	// The files are written several at once, but for the SBOMs.
	files := make([]string, len(outputs))
	errs := make([]error, len(outputs))
	write := func(i int) {
		files[i] = filepath.Join(dir, outputs[i].name)
		if err := writeFile(files[i], outputs[i].write); err != nil {
			errs[i] = fmt.Errorf("writing %s: %w", files[i], err)
		}
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	var sboms []int
	for i, o := range outputs {
		if o.sbom {
			sboms = append(sboms, i)
			continue
		}
		g.Go(func() error { write(i); return nil })
	}
	g.Go(func() error {
		for _, i := range sboms {
			write(i)
		}
		return nil
	})
	g.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return files, nil
}

// printVerdict tells the person at the terminal the verdict, why, and where the evidence is.
func printVerdict(w io.Writer, res *result.Result, files []string) {
	fmt.Fprintf(w, "VERDICT: %s  %s (%s)\n", strings.ToUpper(res.Verdict), safeLine(res.Target.Input), res.Target.Digest)
	const maxShown = 20
	for i, r := range res.Reasons {
		if i == maxShown {
			fmt.Fprintf(w, "  … and %d more reasons in the report\n", len(res.Reasons)-maxShown)
			break
		}
		fmt.Fprintf(w, "  - %s\n", safeLine(r))
	}
	if res.Verdict == "pass" && len(res.NotChecked) > 0 {
		fmt.Fprintf(w, "Not checked:\n")
		for _, n := range res.NotChecked {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	waived := 0
	for _, f := range res.Findings {
		if f.Waiver != nil {
			waived++
		}
	}
	fmt.Fprintf(w, "%d artifacts, %d checks, %d findings (%d waived), %d errors\n", res.Summary.Artifacts, len(res.Checks), len(res.Findings), waived, len(res.Errors))
	fmt.Fprintf(w, "Evidence:\n")
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
	}
}

// safeLine keeps text from the delivery from moving or disguising the terminal's text.
func safeLine(s string) string { return render.Safe(s) }

// acceptExit: PASS 0; FAIL 1, or 2 when it rests only on what could not be decided.
func acceptExit(res *result.Result) error {
	if res.Verdict == "pass" {
		return nil
	}
	decided := slices.ContainsFunc(res.Checks, func(c result.Check) bool { return c.Status == result.Fail })
	for _, f := range res.Findings {
		if f.Waiver == nil && f.Severity.Rank() >= mustSeverity(res.Policy.FailOn).Rank() {
			decided = true
		}
	}
	if !decided {
		return &exitError{code: ExitUndecided}
	}
	return &exitError{code: ExitFindings}
}

func mustSeverity(s string) result.Severity {
	sev, _ := result.ParseSeverity(s)
	return sev
}

// writeAttestations writes the verdict, test-result and SBOM statements, signed into
// Sigstore bundles when there is a key.
func writeAttestations(ctx context.Context, dir string, res *result.Result, threshold result.Severity, signer *publish.Signer) ([]string, bool, error) {
	sbomJSON, err := os.ReadFile(filepath.Join(dir, "sbom.cdx.json"))
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	var statements [3][]byte
	if statements[0], err = vsa.Summary(res, nil, now); err != nil {
		return nil, false, err
	}
	if statements[1], err = vsa.TestResult(res, threshold); err != nil {
		return nil, false, err
	}
	if statements[2], err = vsa.SBOM(res, sbomJSON); err != nil {
		return nil, false, err
	}
	var files []string
	for i, name := range []string{"vsa", "test-result", "sbom"} {
		data, file := statements[i], filepath.Join(dir, "attestation."+name+".intoto.json")
		if signer != nil {
			if data, err = publish.AttestBlob(ctx, *signer, statements[i]); err != nil {
				return nil, false, fmt.Errorf("signing the %s attestation: %w", name, err)
			}
			file = filepath.Join(dir, "attestation."+name+".sigstore.json")
		}
		if err := writeFile(file, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return nil, false, err
		}
		files = append(files, file)
	}
	return files, signer != nil, nil
}

// readBaseline reads the saved result of the previously accepted release and its digest.
func readBaseline(name string) (*result.Result, string, error) {
	if _, err := os.Stat(name); err != nil {
		return nil, "", err
	}
	res, _, digest, err := readSaved(name)
	if err != nil {
		return nil, "", err
	}
	if res == nil {
		return nil, "", fmt.Errorf("%s is not a kensa result: name the result.json of the previous release's kensa accept", name)
	}
	return res, digest, nil
}

// baselineFindings turns the changes from the baseline at medium risk and above, other
// than findings that are new or changed (this acceptance lists them already), into
// findings (rule baseline/KIND), so that the policy's threshold and waivers apply to
// them as to any other finding.
func baselineFindings(rep *diff.Report) []result.Finding {
	var out []result.Finding
	for _, c := range rep.Changes {
		// New findings are findings of this acceptance already.
		if c.Level.Rank() < result.Medium.Rank() || strings.HasPrefix(c.Kind, "finding-") {
			continue
		}
		out = append(out, result.Finding{Rule: "baseline/" + c.Kind, Severity: c.Level, Path: c.Path,
			Message: fmt.Sprintf("since the accepted release (risk %d): %s", c.Risk, c.Summary), Evidence: c.Details})
	}
	return out
}

// writeBaselineDiff writes the comparison with the baseline as diff.json and diff.html.
func writeBaselineDiff(dir string, rep *diff.Report, baseline, target string) ([]string, error) {
	v, c := version.Get()
	rep.Tool = result.Tool{Name: "kensa", Version: v, Commit: c}
	rep.Old = diff.Side{Input: baseline, From: "result"}
	rep.New = diff.Side{Input: target, From: "target"}
	var files []string
	for name, write := range map[string]func(io.Writer, *diff.Report) error{"diff.json": render.DiffJSON, "diff.html": render.DiffHTML} {
		p := filepath.Join(dir, name)
		if err := writeFile(p, func(w io.Writer) error { return write(w, rep) }); err != nil {
			return nil, err
		}
		files = append(files, p)
	}
	slices.Sort(files)
	return files, nil
}

// trustOf turns the verification checks into what the rules know as trust (rules.Trust)
// about each artifact of the delivery.
func trustOf(inv *inventory.Inventory, checks []result.Check) func(string) rules.Trust {
	signed := map[string]bool{}
	listed := map[string]bool{}
	var deliverySigned, manifestSigned, imageSigned bool
	for _, c := range checks {
		if c.Status != result.Pass {
			continue
		}
		switch {
		case c.Name == authenticode.CheckName || c.Name == sigstore.CheckName:
			signed[c.Subject] = true
		case c.Name == sigstore.ImageCheckName:
			imageSigned = true
		case c.Name == checksums.CheckFile:
			listed[c.Subject] = true
		case c.Name == checksums.CheckSignature:
			manifestSigned = true
		}
		if strings.HasPrefix(c.Name, "signature/") {
			deliverySigned = true
		}
	}
	// Peers are files of the same format in the same container: the delivery's top level
	// or one archive (an installer's files), so that the files inside a signed archive are
	// not compared with the archive's own signed neighbours.
	type group struct{ container, format string }
	container := func(p string) string {
		if i := strings.LastIndex(p, "!"); i >= 0 {
			return p[:i]
		}
		return ""
	}
	signedPeers := map[group]int{}
	format := map[string]string{}
	for _, a := range inv.Artifacts {
		format[a.Path] = a.Format
		if signed[a.Path] {
			signedPeers[group{container(a.Path), a.Format}]++
		}
	}
	return func(p string) rules.Trust {
		t := rules.Trust{Verified: true, DeliverySigned: deliverySigned, Signed: signed[p]}
		t.SignedPeers = signedPeers[group{container(p), format[p]}]
		if t.Signed {
			t.SignedPeers--
		}
		t.Covered = t.Signed || imageSigned || (manifestSigned && listed[p])
		for i := strings.LastIndex(p, "!"); i > 0 && !t.Covered; i = strings.LastIndex(p[:i], "!") {
			t.Covered = signed[p[:i]] || (manifestSigned && listed[p[:i]])
		}
		return t
	}
}
