package checksums

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"kensa.dev/kensa/internal/result"
)

// Check names this package reports.
const (
	// CheckManifest sums up one manifest (subject: the manifest): pass when every listed
	// file matches and no executable in its directory tree is unlisted; error when the
	// manifest cannot be read.
	CheckManifest = "checksum/manifest"
	// CheckFile is one listed file (subject: the file): pass when its digest matches,
	// fail when it differs (both digests in the detail) or the file is missing.
	CheckFile = "checksum/file"
	// CheckUnlisted is an executable that sits in a manifest's directory tree but that
	// no manifest lists (subject: the executable); always a fail.
	CheckUnlisted = "checksum/unlisted"
	// CheckSignature is the OpenPGP signature of a manifest (subject: the manifest).
	CheckSignature = "signature/openpgp"
)

// DefaultMaxFileSize bounds the bytes read from one file to compute a digest the caller
// did not supply (sha512, or sha256 when File.SHA256 is empty): kensa's default file-size
// limit.
const DefaultMaxFileSize = 8 << 30

// File is one file of the delivery.
type File struct {
	// Path is the file's path relative to the delivery root as kensa's inventory writes
	// it: "/"-separated, files inside archives joined with "!", each name escaped as
	// result.EscapeName does.
	Path string
	// SHA256 is the file's sha256 in lowercase hex; when empty it is computed through Open.
	SHA256 string
	// Executable is true for ELF, PE and Mach-O binaries and scripts.
	Executable bool
	// Open returns the file's bytes; it is needed for manifests, signatures and digests
	// other than SHA256.
	Open func() (io.ReadCloser, error)
}

// Delivery gives the files of a delivery by path and all at once.
type Delivery interface {
	// Lookup returns the file at path (File.Path form), if there is one.
	Lookup(path string) (File, bool)
	// Files returns every file of the delivery.
	Files() []File
}

// NewDelivery indexes files by path.
func NewDelivery(files []File) Delivery {
	d := delivery{files: files, byPath: make(map[string]int, len(files))}
	for i, f := range files {
		d.byPath[f.Path] = i
	}
	return d
}

type delivery struct {
	files  []File
	byPath map[string]int
}

func (d delivery) Lookup(p string) (File, bool) {
	i, ok := d.byPath[p]
	if !ok {
		return File{}, false
	}
	return d.files[i], true
}

func (d delivery) Files() []File { return d.files }

// Options are the inputs of Verify beyond the delivery.
type Options struct {
	// Keys are the OpenPGP keys manifests must be signed by (--pgp-key); nil when none
	// were given.
	Keys *Keys
	// Manifests are the paths (File.Path form) of the manifests to verify; when empty,
	// Discover finds them.
	Manifests []string
	// Now is the time signatures and keys are checked at; zero means time.Now.
	Now time.Time
	// MaxFileSize bounds the bytes read from one file to compute a digest; zero means
	// DefaultMaxFileSize.
	MaxFileSize int64
	// Screen, when set, is given the bytes of every manifest and signature file before
	// they are parsed (kensa has an analysis worker parse them first, ParseDocument); a
	// document it returns an error for is not parsed and counts as unreadable.
	Screen func(path string, data []byte) error
}

// Discover returns the paths of the delivery's checksum manifests, sorted: files with a
// manifest name (IsManifestName) that are not executables, and signature-named files
// beside such a name (SHA256SUMS.asc) that hold an OpenPGP clearsigned message.
func Discover(d Delivery) []string {
	var out []string
	for _, f := range d.Files() {
		if f.Executable {
			continue
		}
		if IsManifestName(f.Path) {
			out = append(out, f.Path)
			continue
		}
		if base, ok := signatureOf(f.Path); ok && IsManifestName(base) && f.Open != nil {
			if data, err := readFile(f, MaxManifestSize); err == nil && isClearsigned(data) {
				out = append(out, f.Path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Verify checks every manifest of the delivery (Options.Manifests, or what Discover
// finds) against the delivery's files and its OpenPGP signatures against Options.Keys,
// and returns the checks in a stable order: per manifest its CheckManifest, its
// CheckSignature checks and its CheckFile checks, then the CheckUnlisted checks.
//
// Without any manifest it returns one CheckManifest skip, and a CheckSignature fail when
// keys were given (nothing they could vouch for).
func Verify(d Delivery, opts Options) (checks []result.Check) {
	defer func() {
		if r := recover(); r != nil {
			checks = append(checks, result.Check{Name: CheckManifest, Status: result.Erred,
				Detail: fmt.Sprintf("internal error while verifying checksum manifests (%v); please report it", r)})
		}
	}()
	v := &verifier{d: d, opts: opts, listed: map[string]bool{}, chosen: map[string]bool{}}
	if v.opts.Now.IsZero() {
		v.opts.Now = time.Now()
	}
	if v.opts.MaxFileSize <= 0 {
		v.opts.MaxFileSize = DefaultMaxFileSize
	}
	manifests := opts.Manifests
	if len(manifests) == 0 {
		manifests = Discover(d)
	}
	if len(manifests) == 0 {
		checks = append(checks, result.Check{Name: CheckManifest, Status: result.Skip,
			Detail: "the delivery holds no checksum manifest (SHA256SUMS, SHA512SUMS, *.sha256, CHECKSUMS, *checksums*.txt, …)"})
		if opts.Keys.Len() > 0 {
			checks = append(checks, result.Check{Name: CheckSignature, Status: result.Fail,
				Detail: "--pgp-key was given but the delivery holds no checksum manifest for it to vouch for; ask the vendor for a signed SHA256SUMS"})
		}
		return checks
	}
	v.sigs = map[string][]string{}
	for _, f := range d.Files() {
		if base, ok := signatureOf(f.Path); ok {
			v.sigs[base] = append(v.sigs[base], f.Path)
		}
	}
	for _, p := range manifests {
		v.chosen[p] = true
	}
	var reports []*manifestReport
	for _, p := range manifests {
		reports = append(reports, v.manifest(p))
	}
	unlisted := v.unlisted()
	for _, r := range reports {
		for _, u := range unlisted {
			if r.tree && inTree(u.Subject, r.path) {
				r.unlisted++
			}
		}
		checks = append(checks, r.summary())
		checks = append(checks, r.sigChecks...)
		checks = append(checks, r.fileChecks...)
	}
	return append(checks, unlisted...)
}

type verifier struct {
	d      Delivery
	opts   Options
	sigs   map[string][]string // manifest path → signature files beside it
	listed map[string]bool     // every path some manifest lists
	trees  []string            // manifests whose directory tree is claimed
	chosen map[string]bool     // the manifests being verified
}

type manifestReport struct {
	path       string
	err        string // the manifest could not be read or parsed
	copyOf     string // the clearsigned copy this manifest matches, whose checks stand for it
	mismatch   string // how this manifest differs from its clearsigned copy
	m          *Manifest
	tree       bool
	signed     bool
	sigChecks  []result.Check
	fileChecks []result.Check
	failed     int
	errored    int
	unlisted   int
}

func (v *verifier) manifest(p string) *manifestReport {
	r := &manifestReport{path: p}
	f, ok := v.d.Lookup(p)
	if !ok {
		r.err = "the manifest is not in the delivery"
		return r
	}
	data, err := v.readDocument(p, f)
	if err != nil {
		r.err = err.Error()
		return r
	}
	m, perr := Parse(p, data)
	if perr != nil {
		r.err = perr.Error()
		if isClearsigned(data) {
			// A clearsigned message that cannot be read vouches for nothing.
			r.signed = true
			st := result.Skip
			if v.opts.Keys.Len() > 0 {
				st = result.Fail
			}
			r.sigChecks = append(r.sigChecks, result.Check{Name: CheckSignature, Subject: p, Status: st,
				Detail: "the clearsigned manifest cannot be read, so its signature was not checked: " + perr.Error()})
		}
	}
	r.m = m
	// Signatures: the clearsign signature, detached ones beside it, a clearsigned copy.
	if m != nil && m.Clearsigned {
		r.signed = true
		s := verifySignature(v.opts.Keys, m.signed, m.signature, m.hashHeaders, v.opts.Now)
		r.sigChecks = append(r.sigChecks, result.Check{Name: CheckSignature, Subject: p, Status: s.Status,
			Detail: "clearsigned: " + s.Detail})
	}
	for _, sp := range v.sigs[p] {
		sf, _ := v.d.Lookup(sp)
		sdata, err := v.readDocument(sp, sf)
		if err != nil {
			r.signed = true
			r.sigChecks = append(r.sigChecks, result.Check{Name: CheckSignature, Subject: p, Status: result.Fail,
				Detail: fmt.Sprintf("%s: the signature file could not be read: %v", sp, err)})
			continue
		}
		r.signed = true
		if isClearsigned(sdata) {
			// A clearsigned copy of the manifest (SHA256SUMS.asc beside SHA256SUMS).
			copyM, err := Parse(sp, sdata)
			diff := ""
			switch {
			case err != nil:
				diff = fmt.Sprintf("its clearsigned copy %s cannot be read: %v", sp, err)
			case m == nil:
				diff = fmt.Sprintf("the manifest cannot be read, so it cannot be compared with its clearsigned copy %s", sp)
			default:
				if d := diffEntries(m.Entries, copyM.Entries); d != "" {
					diff = fmt.Sprintf("it differs from its clearsigned copy %s: %s", sp, d)
				}
			}
			if v.chosen[sp] {
				// The copy is verified as a manifest of its own; this one stands or
				// falls with it.
				if m != nil {
					r.mismatch, r.copyOf = diff, sp
				}
				continue
			}
			c := result.Check{Name: CheckSignature, Subject: p, Status: result.Fail, Detail: diff}
			if diff == "" {
				s := verifySignature(v.opts.Keys, copyM.signed, copyM.signature, copyM.hashHeaders, v.opts.Now)
				c.Status, c.Detail = s.Status, sp+" (a clearsigned copy with the same entries): "+s.Detail
			}
			r.sigChecks = append(r.sigChecks, c)
			continue
		}
		s := verifySignature(v.opts.Keys, data, sdata, nil, v.opts.Now)
		r.sigChecks = append(r.sigChecks, result.Check{Name: CheckSignature, Subject: p, Status: s.Status,
			Detail: sp + ": " + s.Detail})
	}
	if r.mismatch != "" {
		r.copyOf = ""
	}
	if r.copyOf != "" || r.mismatch != "" {
		// The clearsigned copy carries the signature and file checks.
		return r
	}
	if !r.signed {
		st, detail := result.Skip, "the manifest has no OpenPGP signature and no --pgp-key was given; its checksums show that the files match it, not who made it"
		if v.opts.Keys.Len() > 0 {
			st, detail = result.Fail, fmt.Sprintf("--pgp-key was given but the manifest has no OpenPGP signature (no clearsigned text, no %s beside it); ask the vendor to sign it", strings.Join(SignatureExtensions, ", "))
		}
		r.sigChecks = append(r.sigChecks, result.Check{Name: CheckSignature, Subject: p, Status: st, Detail: detail})
	}
	if m == nil {
		return r
	}
	r.tree = !perFile(p, m)
	if r.tree {
		v.trees = append(v.trees, p)
	}
	for _, e := range m.Entries {
		target := resolve(p, e.Name)
		if m.Bare {
			// The file is the manifest's own path without its extension.
			target = p[:len(p)-(len(baseName(p))-len(e.Name))]
		}
		v.listed[target] = true
		c := v.entry(p, target, e)
		switch c.Status {
		case result.Fail:
			r.failed++
		case result.Erred:
			r.errored++
		}
		r.fileChecks = append(r.fileChecks, c)
	}
	return r
}

// readDocument reads a manifest or signature file, and has it screened.
func (v *verifier) readDocument(p string, f File) ([]byte, error) {
	data, err := readFile(f, MaxManifestSize)
	if err == nil && v.opts.Screen != nil {
		err = v.opts.Screen(p, data)
	}
	return data, err
}

// entry checks one listed file.
func (v *verifier) entry(manifest, target string, e Entry) result.Check {
	c := result.Check{Name: CheckFile, Subject: target}
	f, ok := v.d.Lookup(target)
	if !ok {
		c.Status = result.Fail
		c.Detail = fmt.Sprintf("listed in %s (line %d) but missing from the delivery", manifest, e.Line)
		return c
	}
	got := ""
	if e.Algorithm == SHA256 && f.SHA256 != "" {
		got = strings.ToLower(f.SHA256)
	} else {
		var err error
		if got, err = digestFile(f, e.Algorithm, v.opts.MaxFileSize); err != nil {
			c.Status = result.Erred
			c.Detail = fmt.Sprintf("could not compute the %s listed in %s: %v", e.Algorithm, manifest, err)
			return c
		}
	}
	if got != e.Digest {
		c.Status = result.Fail
		c.Detail = fmt.Sprintf("%s mismatch: %s (line %d) lists %s, the file has %s", e.Algorithm, manifest, e.Line, e.Digest, got)
		return c
	}
	c.Status = result.Pass
	c.Detail = fmt.Sprintf("%s matches %s (line %d)", e.Algorithm, manifest, e.Line)
	return c
}

// unlisted reports executables in a claimed directory tree that no manifest lists.
func (v *verifier) unlisted() []result.Check {
	var out []result.Check
	for _, f := range v.d.Files() {
		if !f.Executable || v.listed[f.Path] {
			continue
		}
		var in []string
		for _, m := range v.trees {
			if inTree(f.Path, m) {
				in = append(in, m)
			}
		}
		if len(in) == 0 {
			continue
		}
		out = append(out, result.Check{Name: CheckUnlisted, Subject: f.Path, Status: result.Fail,
			Detail: fmt.Sprintf("executable in the directory of %s but listed in no checksum manifest; ask the vendor what it is", strings.Join(in, ", "))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subject < out[j].Subject })
	return out
}

func (r *manifestReport) summary() result.Check {
	c := result.Check{Name: CheckManifest, Subject: r.path}
	switch {
	case r.m == nil || r.err != "":
		c.Status, c.Detail = result.Erred, r.err+"; the files it lists were not verified"
	case r.mismatch != "":
		c.Status, c.Detail = result.Fail, r.mismatch
	case r.copyOf != "":
		c.Status, c.Detail = result.Pass, fmt.Sprintf("same %d entries as its clearsigned copy %s, which is verified on its own", len(r.m.Entries), r.copyOf)
	default:
		n := len(r.m.Entries)
		var problems []string
		if r.failed > 0 {
			problems = append(problems, fmt.Sprintf("%d of %d listed files differ or are missing", r.failed, n))
		}
		if r.errored > 0 {
			problems = append(problems, fmt.Sprintf("%d could not be read", r.errored))
		}
		if r.unlisted > 0 {
			problems = append(problems, fmt.Sprintf("%d unlisted executable(s) in its directory", r.unlisted))
		}
		switch {
		case r.errored > 0 && r.failed == 0 && r.unlisted == 0:
			c.Status = result.Erred
		case len(problems) > 0:
			c.Status = result.Fail
		default:
			c.Status = result.Pass
		}
		if len(problems) > 0 {
			c.Detail = strings.Join(problems, "; ") + fmt.Sprintf(" (see %s and %s)", CheckFile, CheckUnlisted)
		} else {
			c.Detail = fmt.Sprintf("all %d listed files match", n)
		}
		if !r.signed {
			c.Detail += "; the manifest is not signed, so this shows the files match it, not who made it"
		}
	}
	return c
}

// diffEntries describes the first difference between two entry lists, or "" when they
// list the same names with the same digests.
func diffEntries(a, b []Entry) string {
	type k struct {
		name string
		alg  Algorithm
	}
	am, bm := map[k]string{}, map[k]string{}
	for _, e := range a {
		am[k{e.Name, e.Algorithm}] = e.Digest
	}
	for _, e := range b {
		bm[k{e.Name, e.Algorithm}] = e.Digest
	}
	for _, e := range a {
		if d, ok := bm[k{e.Name, e.Algorithm}]; !ok {
			return fmt.Sprintf("%q is listed only in the unsigned one", e.Name)
		} else if d != e.Digest {
			return fmt.Sprintf("%q has different digests", e.Name)
		}
	}
	for _, e := range b {
		if _, ok := am[k{e.Name, e.Algorithm}]; !ok {
			return fmt.Sprintf("%q is listed only in the clearsigned one", e.Name)
		}
	}
	return ""
}

// perFile tells a one-file manifest (app.tar.gz.sha256 listing app.tar.gz), which vouches
// for that file only, from one that claims its directory tree.
func perFile(p string, m *Manifest) bool {
	if m.Bare {
		return true
	}
	_, base, ok := bareDigestName(p)
	return ok && len(m.Entries) == 1 && m.Entries[0].Name == base
}

// splitNested splits an inventory path into the archive prefix (up to and including the
// last "!") and the path inside it.
func splitNested(p string) (outer, inner string) {
	i := strings.LastIndexByte(p, '!')
	return p[:i+1], p[i+1:]
}

// resolve returns the inventory path of a name listed in the manifest at manifestPath.
func resolve(manifestPath, name string) string {
	outer, inner := splitNested(manifestPath)
	esc, _ := result.EscapeName(name)
	return outer + path.Join(path.Dir(inner), esc)
}

// inTree tells whether file lies in the directory tree of the manifest at manifestPath,
// not counting files inside archives there (the archive is what the manifest lists).
func inTree(file, manifestPath string) bool {
	outer, inner := splitNested(manifestPath)
	if !strings.HasPrefix(file, outer) {
		return false
	}
	rest := file[len(outer):]
	if strings.Contains(rest, "!") {
		return false
	}
	dir := path.Dir(inner)
	return dir == "." || strings.HasPrefix(rest, dir+"/")
}

// readFile reads a whole file of at most limit bytes.
func readFile(f File, limit int64) ([]byte, error) {
	if f.Open == nil {
		return nil, fmt.Errorf("%s cannot be opened", f.Path)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", f.Path, limit)
	}
	return data, nil
}

// digestFile computes a file's digest, reading at most limit bytes.
func digestFile(f File, alg Algorithm, limit int64) (string, error) {
	if f.Open == nil {
		return "", fmt.Errorf("%s cannot be opened", f.Path)
	}
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var h hash.Hash = sha256.New()
	if alg == SHA512 {
		h = sha512.New()
	}
	n, err := io.Copy(h, io.LimitReader(rc, limit+1))
	if err != nil {
		return "", err
	}
	if n > limit {
		return "", fmt.Errorf("larger than the %d-byte limit", limit)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
