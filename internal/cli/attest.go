package cli

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/attest/vsa"
	"kensa.dev/kensa/internal/result"
)

func newAttest(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{}
	addAttestCommand(cmd, stdout, stderr)
	var (
		in   inspectFlags
		keys []string
	)
	verify := &cobra.Command{
		Use:   "verify BUNDLE --key PUB [TARGET]",
		Short: "Verify a signed kensa attestation and, given the delivery, that it is about these bytes",
		Long: `verify checks a Sigstore bundle that 'kensa accept --sign-key' wrote: the signature with
the public key (--key), offline. Given the delivery as TARGET, every subject of the
statement must be a file of the delivery with that digest, and every file of the delivery
a subject: the attestation is about exactly these bytes.`,
		Example: `  kensa attest verify evidence/attestation.vsa.sigstore.json --key kensa-acceptance.pub ./delivery-3.2`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("attest verify needs BUNDLE and optionally TARGET")
			}
			if len(keys) == 0 {
				return usagef("attest verify needs --key: the public key the attestation must be signed with")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			bundleJSON, err := readSmall(args[0], sigstore.MaxBundleSize)
			if err != nil {
				return &exitError{code: ExitUndecided, err: err}
			}
			var pems [][]byte
			for _, k := range keys {
				b, err := readSmall(k, sigstore.MaxBundleSize)
				if err != nil {
					return usagef("--key: %v", err)
				}
				pems = append(pems, b)
			}
			trust, err := sigstore.NewTrust(sigstore.TrustOptions{Keys: pems})
			if err != nil {
				return usagef("%v", err)
			}
			st, err := unverifiedStatement(bundleJSON)
			if err != nil {
				return &exitError{code: ExitFindings, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			var checks []result.Check
			v, verr := sigstore.VerifyBundle(bundleJSON, sigstore.ArtifactRef{SHA256: st.Subject[0].Digest["sha256"]}, trust)
			c := sigstore.Check(args[0], v, verr)
			checks = append(checks, c)
			if c.Status == result.Pass && len(args) == 2 {
				opts, err := in.options(stderr)
				if err != nil {
					return err
				}
				inv, err := inventory.Take(cmd.Context(), args[1:], opts)
				if err != nil {
					return walkError(err)
				}
				checks = append(checks, subjectChecks(st, vsa.Subjects(&result.Result{Artifacts: inv.Artifacts, Target: inv.Targets[0]}))...)
			}
			fmt.Fprintf(stdout, "%s: %s\n", args[0], st.PredicateType)
			for _, c := range checks {
				fmt.Fprintf(stdout, "  %-5s %s  %s: %s\n", c.Status, c.Name, safeLine(c.Subject), safeLine(c.Detail))
			}
			for _, c := range checks {
				if c.Status != result.Pass {
					return &exitError{code: ExitFindings}
				}
			}
			return nil
		},
	}
	in.register(verify)
	verify.Flags().StringArrayVar(&keys, "key", nil, "the public key the attestation must be signed with (repeatable: any one)")
	cmd.AddCommand(verify)
	return cmd
}

// unverifiedStatement reads the statement out of a bundle's DSSE envelope, to know its
// subjects before the signature over it is checked.
func unverifiedStatement(bundleJSON []byte) (*vsa.Statement, error) {
	var b struct {
		DSSE *struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundleJSON, &b); err != nil || b.DSSE == nil {
		return nil, errors.New("not a Sigstore bundle holding a DSSE envelope")
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
	if err != nil {
		return nil, errors.New("the envelope's payload is not base64")
	}
	var st vsa.Statement
	if err := json.Unmarshal(payload, &st); err != nil || st.Type != vsa.StatementType || len(st.Subject) == 0 || st.Subject[0].Digest["sha256"] == "" {
		return nil, errors.New("the envelope does not hold an in-toto statement v1 with sha256 subjects")
	}
	return &st, nil
}

// subjectChecks compares the statement's subjects with the delivery's files.
func subjectChecks(st *vsa.Statement, files []vsa.Subject) []result.Check {
	var checks []result.Check
	have := map[string]string{}
	for _, f := range files {
		have[f.Name] = f.Digest["sha256"]
	}
	claimed := map[string]bool{}
	bad := 0
	for _, s := range st.Subject {
		claimed[s.Name] = true
		got, ok := have[s.Name]
		switch {
		case !ok:
			bad++
			checks = append(checks, result.Check{Name: "attestation/subject", Subject: s.Name, Status: result.Fail, Detail: "the attestation names a file the delivery does not have"})
		case got != s.Digest["sha256"]:
			bad++
			checks = append(checks, result.Check{Name: "attestation/subject", Subject: s.Name, Status: result.Fail,
				Detail: fmt.Sprintf("the delivery's file is sha256:%s; the attestation is about sha256:%s", got, s.Digest["sha256"])})
		}
	}
	var extra []string
	for name := range have {
		if !claimed[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		bad++
		checks = append(checks, result.Check{Name: "attestation/subject", Subject: name, Status: result.Fail, Detail: "a file of the delivery the attestation does not cover"})
	}
	if bad == 0 {
		checks = append(checks, result.Check{Name: "attestation/subject", Subject: fmt.Sprintf("%d files", len(st.Subject)), Status: result.Pass,
			Detail: "every file of the delivery is a subject of the attestation, with its digest"})
	}
	return checks
}
