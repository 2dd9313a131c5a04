package policy

// Starter is the commented policy `kensa policy init` writes: every key, with what it
// means, ready to be filled in with the vendor's keys and declarations.
const Starter = `# kensa acceptance policy. Paths are relative to this file.
apiVersion: kensa.dev/policy/v1

# Whom the buyer trusts. A valid signature by anyone not named here fails.
trust:
  sigstore:
    keys: []                 # cosign public keys of the vendor: [vendor-cosign.pub]
    identities: []           # keyless signers, e.g.:
    #  - identityRegexp: ^https://github\.com/vendor/product/\.github/workflows/release\.yml@refs/tags/
    #    issuer: https://token.actions.githubusercontent.com
    trustedRoot: ""          # a Sigstore trusted_root.json; empty: the public-good root in kensa
  openpgp:
    keys: []                 # keys the checksum manifests (SHA256SUMS.asc) must be signed with
  authenticode:
    roots: []                # root certificates of the vendor's code-signing chain (PEM or DER)
    tsaRoots: []             # time-stamping roots; empty: the roots above
    signers: []              # expected signer: "o:Vendor Ltd", "cn:…", "sha256:…"
    systemRoots: false       # also trust this machine's certificate store
    required: false          # an unsigned Windows executable fails

# What the build provenance (SLSA) must say.
provenance:
  required: false
  builderId: ""              # https://github.com/vendor/product/.github/workflows/release.yml
  sourceUri: ""              # github.com/vendor/product
  sourceTag: ""              # v3.2.0
  sourceBranch: ""
  predicateTypes: []         # default: SLSA provenance v0.2 and v1

signatures:
  required: false            # every delivered file must have a verified signature or manifest entry

sbom:
  vendor: ""                 # the vendor's SBOM (CycloneDX or SPDX) to reconcile the delivery with
  forbidden: []              # components that must not appear: ["xz-utils@5.6.*", "pkg:npm/event-stream@*"]

# What the vendor declared.
declarations:
  manifest: ""               # the delivered files with their sha256, as sha256sum writes them
  networkDestinations: []    # hosts, *.domains, IPs and CIDRs the software may contact

# The result.json of the previously accepted release (from its kensa accept evidence).
# Every change from it is ranked by risk (kensa diff); a change at or above failOn fails
# the acceptance unless a waiver names it (rule baseline/<kind>: baseline/file-changed, …).
baseline: ""

rules:
  builtin: true
  packs: []                  # directories of your own rule packs
  disable: []                # rule id globs not to run
  failOn: high               # lowest finding severity that fails the acceptance

# Findings accepted for a stated reason, until a date. An expired waiver stops applying.
waivers: []
#  - rule: hardening/pe-without-cfg
#    path: casemgr-admin.exe
#    digest: sha256:…        # optional: only these bytes
#    reason: built with Go, which does not emit Control Flow Guard
#    approver: 検収担当 山田
#    expires: 2027-03-31
`
