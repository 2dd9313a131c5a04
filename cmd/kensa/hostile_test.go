package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/proctree"
)

// hostileRun is how kensa is run on a hostile case of internal/fixture and what it must
// say.
type hostileRun struct {
	// args are kensa's arguments (FILE is the case's file, KEY a file holding
	// fixture.HostileKeyPEM, the vendor's key of the signed cases): the limits that make the
	// case bite, as its testscript uses them. Nil scans the file with the defaults.
	args []string
	// want is a regular expression the run's result (result.json for scan, else what it
	// printed) must match: the error that names what kensa could not inspect.
	want string
	// exit is the exit code the run must end with: 2 (kensa cannot decide) when 0; 1 for
	// a case whose verdict is a failure, such as a signature that does not verify.
	exit int
}

var hostileRuns = map[string]hostileRun{
	"traversal":       {want: `kensa-escape-dotdot.txt\\": climbs above the archive root`},
	"sibling-prefix":  {want: `symbolic link to \.\./out-evil climbs above the delivery root \(not followed\)`},
	"symlink-escape":  {want: `symbolic link to the absolute path /etc, outside the delivery \(not followed\)`},
	"hardlink-escape": {want: `hard link to later.txt, which is not an earlier entry of this archive`},
	"symlink-loop":    {want: `symbolic link loop: a does not resolve within 40 links`},
	"huge-header":     {want: `a PAX extended header or GNU long name is larger than 1 MiB`},
	"long-path":       {want: `member name of 5000 bytes exceeds the path-length limit of 4096`},
	"many-entries":    {args: []string{"scan", "--limit", "entries=20000", "FILE"}, want: `exceeds the entries limit of 20000`},
	"bomb-entry":      {want: `"path": "bomb-entry.tar.gz!zeros.bin",\s*"kind": "limit",\s*"error": "gzip stream .* exceeds the ratio limit of 100`},
	"bomb-total":      {args: []string{"scan", "--limit", "total-size=10M", "FILE"}, want: `exceeds the total-size limit of 10M`},
	"bomb-overlap":    {want: `entry \\"b\\" overlaps entry \\"a\\"`},
	"zip-count":       {want: `"path": "zip-count.zip",\s*"kind": "`},
	"deep-nesting":    {want: `archive nesting exceeds the depth limit of 6`},
	"gzip-trailing":   {want: `"path": "trailing.gz",\s*"kind": "malformed"`},
	"truncated-gzip":  {want: `"path": "truncated.tar.gz[^"]*",\s*"kind": "`},
	"deb-escape":      {want: `kensa-escape-evil\\": climbs above the archive root`},
	"bad-names":       {want: `"kind": "unsafe",\s*"error": "the name contains control characters, invalid UTF-8 or bidirectional-text controls`},
	"alloc-bomb": {args: []string{"scan", "--limit", "ratio=5000", "--limit", "worker-memory=128M", "FILE"},
		want: `pe: the analysis process was stopped: .*exceeds the worker-memory limit of 128M`},
	"alloc-bomb-image": {args: []string{"scan", "--limit", "ratio=5000", "--limit", "worker-memory=128M", "docker-archive:FILE"},
		want: `pe: the analysis process was stopped: .*exceeds the worker-memory limit of 128M`},
	"walk-bomb": {args: []string{"scan", "--limit", "ratio=5000", "--limit", "spool-memory=1G", "--limit", "walk-memory=96M", "FILE"},
		want: `"path": "walk-bomb.tar.gz",\s*"kind": "limit",\s*"error": "the walk worker was stopped: .*exceeds the walk-memory limit of 96M`},
	"walk-bomb-image": {args: []string{"scan", "--limit", "ratio=5000", "--limit", "spool-memory=1G", "--limit", "walk-memory=96M", "docker-archive:FILE"},
		want: `"error": "the walk worker was stopped: .*exceeds the walk-memory limit of 96M`},
	"sbom-bomb": {args: []string{"sbom", "delivery", "--compare", "FILE", "--limit", "worker-memory=128M"},
		want: `check:sbom: the analysis process was stopped: .*exceeds the worker-memory limit of 128M`},
	"elf-buildinfo-pointers": {want: `"path": "buildinfo.elf",\s*"kind": "malformed",\s*"error": "go: the Go build information at offset 128 is malformed`},
	"elf-buildinfo-outside":  {want: `"path": "buildinfo-outside.elf",\s*"kind": "malformed",\s*"error": "go: the Go build information at offset 128 is malformed`},
	"pe-import-thunks":       {want: `"path": "imports.exe",\s*"kind": "malformed",\s*"error": "pe: import descriptor 0 \(\\"kernel32.dll\\"\) has its lookup table at RVA 0x7ffffff0, outside the file: the loader cannot bind these imports`},
	"macho-fat-slice": {args: []string{"facts", "FILE", "--analyzer", "macho"},
		want: `malformed\s+fat-slice.macho: macho: slice 0 \(arm64\) lies outside the file`},
	"rpm-header-offset": {want: `"kind": "malformed",\s*"error": "rpm \(offset 152\): main header tag 1000 has offset 4000 and count 1 outside its 16-byte store`},
	"rpm-dirindex":      {want: `"kind": "malformed",\s*"error": "rpm: DIRINDEXES value -1 for file 1 is outside the 2 DIRNAMES`},
	"docker-layer-path": {args: []string{"facts", "docker-archive:FILE"},
		want: `layer-path.tar: layer 0 \("\.\./x"\): path "\.\./x" is absolute or leaves the archive; refusing it`},
	"docker-diff-ids": {args: []string{"facts", "docker-archive:FILE"},
		want: `diff-ids.tar: config "config.json": lists 1 diff_ids for the 2 layers of manifest.json; the archive is inconsistent`},
	"docker-layer-digest": {args: []string{"scan", "docker-archive:FILE"},
		want: `"kind": "malformed",\s*"error": "layer 0 \(sha256:[0-9a-f]{64}\): .*content hashes to sha256:[0-9a-f]{64}, not sha256:0414c189c82553ffdb5f8afeefeae2139f68d12d167763d16506b198974f0906: it was altered or damaged`},
	"sbom-deep": {args: []string{"sbom", "delivery", "--compare", "FILE"},
		want: `kensa: --compare: reading CycloneDX: invalid character '\[' exceeded max depth`},
	"sbom-trailing": {args: []string{"sbom", "delivery", "--compare", "FILE"},
		want: `kensa: --compare: reading CycloneDX: invalid character '\{' after top-level value`},
	"sbom-huge-number": {args: []string{"sbom", "delivery", "--compare", "FILE"},
		want: `kensa: --compare: reading CycloneDX: json: cannot unmarshal number 1e999 into Go struct field BOM.version`},
	"authenticode-no-signer": {args: []string{"verify", "FILE"}, exit: 1,
		want: `fail\s+signature/authenticode\s+no-signer.exe: signature, sha256 file digest: the SignedData has 0 signer infos; Authenticode requires exactly one`},
	"authenticode-length-zero": {args: []string{"verify", "FILE"}, exit: 1,
		want: `fail\s+signature/authenticode\s+length-zero.exe: the certificate table holds no readable Authenticode signature`},
	"authenticode-many-certs": {args: []string{"verify", "FILE"}, exit: 1,
		want: `fail\s+signature/authenticode\s+many-certs.exe: signature, sha256 file digest: the SignedData embeds 33 certificates, more than the 32 accepted`},
	"authenticode-der-length": {args: []string{"verify", "FILE"}, exit: 1,
		want: `fail\s+signature/authenticode\s+der-length.exe: signature: cannot parse PKCS#7 SignedData: .*the signature is not strict DER: length 2147483392 runs past its parent`},
	"dsse-payload-type": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+dsse-payload-type.tar!app.txt: dsse-payload-type.tar!app.txt.sigstore.json: signature does not verify with the trusted key\(s\): .*could not verify envelope`},
	"dsse-subject-digest": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+dsse-subject-digest.tar!app.txt: .*: provided artifact digest does not match any digest in statement`},
	"dsse-not-json": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+dsse-not-json.tar!app.txt: .*unable to extract statement from envelope: validation error: invalid attestation: decoding json`},
	"bundle-wrong-key": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+bundle-wrong-key.tar!app.txt: .*signature does not verify with the trusted key\(s\): key sha256:10e0b314bc6aa13fc16bd79ffd88338fae9d3a1b245eb5ad5afd7f967031b928: .*could not verify envelope`},
	"bundle-unknown-version": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+bundle-unknown-version.tar!app.txt: .*not a valid Sigstore bundle: .*bundle version v0.9 is not yet supported`},
	"bundle-no-identity": {args: []string{"verify", "FILE"}, exit: 1,
		want: `fail\s+signature/sigstore\s+bundle-no-identity.tar!app.txt: .*signed by a public key, but a policy must name whom it trusts`},
	"bundle-duplicate-key": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+bundle-duplicate-key.tar!app.txt: .*not a valid Sigstore bundle: .*duplicate field "dsseEnvelope"`},
	"bundle-trailing-data": {args: []string{"verify", "FILE", "--key", "KEY", "--builder-id", "https://kensa.dev/fixture/builder"}, exit: 1,
		want: `fail\s+signature/sigstore\s+bundle-trailing-data.tar!app.txt: .*not a valid Sigstore bundle: .*unexpected token \{`},
	"vsa-subject-digest": {args: []string{"attest", "verify", "FILE", "--key", "KEY", "delivery"}, exit: 1,
		want: `pass\s+signature/sigstore\s+subject-digest.vsa.sigstore.json: signed by key .*\n\s+fail\s+attestation/subject\s+notes.txt: the delivery's file is sha256:48b1a29e44eeff814abc6250e43395bf8ac81827f5791261378cb13b6699e37f; the attestation is about sha256:59fcad60377cd64e909477ba55c3f71316d79999be470072daec5f57eace8fdb`},
	"vsa-forged-pass": {args: []string{"attest", "verify", "FILE", "--key", "KEY", "delivery"}, exit: 1,
		want: `fail\s+signature/sigstore\s+forged-pass.vsa.sigstore.json: signature does not verify with the trusted key\(s\)`},
}

// hostileJobs, hostileWorkerMemory and hostileWalkMemory bound the runs of
// TestHostileCasesTwice, so that the memory bound below holds on any machine;
// kensaAllowance is what kensa's own process may take beside its workers (the example
// delivery's acceptance takes about 60 MiB).
const (
	hostileJobs         = 2
	hostileWorkerMemory = 256 << 20
	hostileWalkMemory   = 768 << 20
	kensaAllowance      = 512 << 20
)

var caseSeries = regexp.MustCompile(`^([A-Z][0-9]{1,2})((?: [A-Z][0-9]{1,2})*):`)

// TestHostileCasesTwice runs kensa on every hostile case twice, each run in a fresh
// scratch directory: kensa ends with the case's exit code (2, cannot decide, for most) and
// says why, both runs give the same
// output byte for byte, the memory of kensa's whole process tree (kensa and its workers,
// measured from outside every 5 ms) stays within the bound its limits set, the scratch
// directory is empty afterwards and nothing is written beside the input. Each subtest
// carries the catalogue row of its case, and logs the tree's peak for the census of
// docs/security.md.
func TestHostileCasesTwice(t *testing.T) {
	for _, name := range fixture.HostileNames() {
		c := fixture.Hostile[name]
		m := caseSeries.FindStringSubmatch(c.Doc)
		if m == nil {
			t.Fatalf("hostile case %s: its description does not start with its catalogue row (%q)", name, c.Doc)
		}
		ids := strings.ReplaceAll(m[1]+m[2], " ", "_")
		t.Run(ids+"_"+name, func(t *testing.T) {
			run, ok := hostileRuns[name]
			if !ok || run.want == "" {
				t.Fatalf("hostile case %s has no expected error in hostileRuns", name)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, c.File), c.Make(), 0o644); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(dir, "delivery"), 0o755)
			os.WriteFile(filepath.Join(dir, "delivery", "notes.txt"), []byte("release notes\n"), 0o644)
			args := run.args
			if args == nil {
				args = []string{"scan", "FILE"}
			}
			if !strings.Contains(strings.Join(args, " "), "worker-memory=") {
				args = append(args, "--limit", fmt.Sprintf("worker-memory=%dM", hostileWorkerMemory>>20))
			}
			if !strings.Contains(strings.Join(args, " "), "walk-memory=") {
				args = append(args, "--limit", fmt.Sprintf("walk-memory=%dM", hostileWalkMemory>>20))
			}
			lim, err := limitsOf(args)
			if err != nil {
				t.Fatal(err)
			}
			// kensa, one walk worker, and the analysis workers it runs at once.
			bound := lim.WalkMemory + hostileJobs*lim.WorkerMemory + kensaAllowance
			key := filepath.Join(t.TempDir(), "vendor.pub")
			if err := os.WriteFile(key, []byte(fixture.HostileKeyPEM), 0o644); err != nil {
				t.Fatal(err)
			}
			var outs [2][]byte
			for i := range outs {
				scratch := t.TempDir()
				out := filepath.Join(scratch, "..", filepath.Base(scratch)+".json")
				argv := append([]string{"kensa"}, subst(args, c.File, key)...)
				argv = append(argv, "-q", "--scratch", scratch, "--jobs", fmt.Sprint(hostileJobs))
				if argv[1] == "scan" {
					argv = append(argv, "--format", "json", "-o", out)
				}
				cmd := &exec.Cmd{Path: os.Args[0], Args: argv, Dir: dir, Env: append(os.Environ(), "TMPDIR="+scratch)}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				tree := proctree.Sample(cmd.Process.Pid, 5*time.Millisecond)
				err := cmd.Wait()
				peak := tree.Stop()
				wantExit := cmp.Or(run.exit, 2)
				if code := cmd.ProcessState.ExitCode(); code != wantExit {
					t.Fatalf("%v: exit %d (%v), want %d\n%s%s", argv[1:], code, err, wantExit, stdout.Bytes(), stderr.Bytes())
				}
				t.Logf("process tree peak: %d bytes (bound %d)", peak, bound)
				if peak == 0 || peak > bound {
					t.Errorf("the memory of kensa and its workers peaked at %s, bound %s (walk-memory %s + %d jobs × worker-memory %s + %s)",
						limits.HumanSize(peak), limits.HumanSize(bound), limits.HumanSize(lim.WalkMemory), hostileJobs, limits.HumanSize(lim.WorkerMemory), limits.HumanSize(kensaAllowance))
				}
				if entries, _ := os.ReadDir(scratch); len(entries) > 0 {
					t.Errorf("the scratch directory was not cleaned: %v", entries)
				}
				outs[i] = append(stdout.Bytes(), stderr.Bytes()...)
				if argv[1] == "scan" {
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					outs[i] = b
				}
			}
			if !regexp.MustCompile(run.want).Match(outs[0]) {
				t.Errorf("the result does not say %q:\n%s", run.want, outs[0])
			}
			if !bytes.Equal(outs[0], outs[1]) {
				t.Errorf("two runs differ:\n%s\n---\n%s", outs[0], outs[1])
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("files appeared beside the input: %v", entries)
			}
		})
	}
}

// limitsOf reads the --limit flags of args.
func limitsOf(args []string) (limits.Limits, error) {
	lim := limits.Default()
	for i, a := range args {
		if a == "--limit" && i+1 < len(args) {
			if err := lim.Set(args[i+1]); err != nil {
				return lim, err
			}
		}
	}
	return lim, nil
}

func subst(args []string, file, key string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch a {
		case "KEY":
			out[i] = key
		default:
			out[i] = strings.ReplaceAll(a, "FILE", file)
		}
	}
	return out
}
