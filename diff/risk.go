package diff

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"kensa.dev/kensa/internal/result"
)

// The weights of the risk score of a changed executable or script. Each is added once for
// the first item of its kind and a smaller step for each further one, up to a cap, so that
// one new destination in an existing routine outranks a hundred new ordinary imports.
var weights = map[string]struct{ first, step, cap int }{
	"destination":          {45, 5, 60}, // a host, address or URL host it did not name before
	"onion":                {60, 0, 60}, // a Tor onion service
	"declared-destination": {8, 2, 12},  // a new destination the buyer's declarations list
	"dangerous-import":     {25, 5, 40}, // process execution, sockets, code loading, injection
	"import":               {2, 1, 10},  // any other new import
	"library":              {15, 5, 25}, // a library it did not load before
	"interposing":          {45, 5, 55}, // a new export with the name of a libc, PAM or crypto function
	"export":               {1, 1, 5},   // any other new export
	"ifunc":                {30, 5, 40}, // a new GNU indirect function (the xz resolver)
	"section":              {20, 5, 30}, // a section it did not have
	"executable-sect":      {10, 0, 10}, // … that is executable, on top
	"entropy":              {25, 0, 25}, // a section whose entropy rose by 1 bit/byte or more to above 7
	"hardening":            {20, 5, 35}, // a mitigation it no longer asks for
	"constructors":         {15, 0, 15}, // more functions run before main
	"packer":               {50, 0, 50}, // an executable packer's marks
	"interesting":          {15, 5, 30}, // credentials, decodable blobs, sensitive paths and commands
	"signer":               {60, 0, 60}, // a different signer
	"signature-lost":       {50, 0, 50}, // no signer any more
	"certificate":          {15, 0, 15}, // the same signer name with another certificate (a renewal, or a look-alike)
	"module":               {5, 2, 15},  // a Go module or Rust crate built in that was not
	"whole-entropy":        {15, 0, 15}, // the file's entropy rose by 1 bit/byte or more
	"observation-other":    {20, 5, 30}, // a script construct not in observationWeights
}

// observationWeights score a script construct (the script analyzer's observation kinds)
// that a release adds.
var observationWeights = map[string]int{
	"pipe-to-shell": 50, "download-execute": 50, "base64-to-interpreter": 50, "ld-so-preload-write": 60,
	"netcat-exec": 60, "dev-tcp": 60, "sudoers-write": 45, "authorized-keys": 40, "user-add": 35,
	"password-set": 35, "setuid-chmod": 35, "cron-entry": 30, "scheduled-task": 30, "systemd-unit": 25,
	"install-hook": 25, "dynamic-eval": 20, "ld-so-preload-reference": 20,
}

// dangerousImports are functions whose arrival in an executable changes what it can do:
// run programs, open sockets, load code, touch other processes. PE names are matched
// without their A/W suffix, all in lower case.
var dangerousImports = []string{
	"system", "popen", "execve", "execl", "execlp", "execle", "execv", "execvp", "execvpe", "posix_spawn", "posix_spawnp",
	"socket", "connect", "bind", "listen", "accept", "accept4", "getaddrinfo", "gethostbyname", "dlopen", "dlsym",
	"ptrace", "mprotect", "memfd_create", "fexecve", "process_vm_writev", "setuid", "setgid", "unlink",
	"winexec", "shellexecute", "shellexecuteex", "createprocess", "createprocessasuser", "virtualalloc", "virtualallocex",
	"virtualprotect", "virtualprotectex", "writeprocessmemory", "createremotethread", "ntcreatethreadex", "loadlibrary",
	"loadlibraryex", "getprocaddress", "internetopen", "internetopenurl", "internetconnect", "httpsendrequest",
	"httpopenrequest", "urldownloadtofile", "winhttpopen", "winhttpconnect", "wsastartup", "wsasocket",
	"regsetvalueex", "setwindowshookex", "isdebuggerpresent", "cryptdecrypt", "_nsgetexecutablepath",
}

// interposable are names whose export by a library hooks the process that preloads it:
// libc's file, directory, process and network functions, PAM, and OpenSSL's RSA checks.
var interposable = []string{
	"readdir", "readdir64", "opendir", "open", "open64", "openat", "fopen", "fopen64", "stat", "lstat", "stat64",
	"access", "unlink", "write", "read", "accept", "connect", "getpwnam", "getspnam", "execve", "fork",
	"pam_authenticate", "pam_open_session", "pam_acct_mgmt", "pam_sm_authenticate", "rsa_public_decrypt",
	"rsa_verify", "evp_pkey_verify", "ssh_pubkey", "getdents", "getdents64", "kill", "ptrace", "dlsym",
}

// profileDelta scores what a new profile has that the old one did not, and says it.
func profileDelta(o, n *result.Profile, opts Options) (int, []string) {
	var (
		risk    int
		details []string
	)
	score := func(kind string, count int, detail string) {
		if count <= 0 {
			return
		}
		w, ok := weights[kind]
		if !ok {
			panic("diff: no weight for " + kind) // a mistake in this file, which the tests catch
		}
		risk += min(w.first+w.step*(count-1), w.cap)
		details = append(details, detail)
	}
	newHosts, newOnions := newDestinations(o.Network, n.Network)
	var declared []string
	if opts.Declared != nil {
		newHosts = slices.DeleteFunc(newHosts, func(h string) bool {
			if opts.Declared(h) {
				declared = append(declared, h)
				return true
			}
			return false
		})
	}
	score("onion", len(newOnions), "new onion service: "+strings.Join(newOnions, ", "))
	score("destination", len(newHosts), "new network destination: "+strings.Join(limit(newHosts, 10), ", "))
	score("declared-destination", len(declared), "new network destination the declarations list: "+strings.Join(limit(declared, 10), ", "))
	if urls := onlyIn(o.Network, n.Network); len(urls) > 0 && len(newHosts)+len(newOnions)+len(declared) == 0 {
		details = append(details, "new network reference to a known destination: "+strings.Join(limit(urls, 5), ", "))
	}
	imports := onlyIn(o.Imports, n.Imports)
	var danger, plain []string
	for _, i := range imports {
		if isDangerousImport(i) {
			danger = append(danger, i)
		} else {
			plain = append(plain, i)
		}
	}
	score("dangerous-import", len(danger), "new import of "+strings.Join(limit(danger, 10), ", "))
	score("import", len(plain), fmt.Sprintf("%d other new imports: %s", len(plain), strings.Join(limit(plain, 8), ", ")))
	score("library", len(onlyIn(o.Libraries, n.Libraries)), "new library: "+strings.Join(limit(onlyIn(o.Libraries, n.Libraries), 10), ", "))
	exports := onlyIn(o.Exports, n.Exports)
	var hooks, others []string
	for _, e := range exports {
		if slices.Contains(interposable, strings.ToLower(strings.TrimPrefix(e, "_"))) {
			hooks = append(hooks, e)
		} else {
			others = append(others, e)
		}
	}
	score("interposing", len(hooks), "new export of "+strings.Join(hooks, ", ")+": a preloaded library with these names intercepts the process's own calls")
	score("export", len(others), fmt.Sprintf("%d other new exports: %s", len(others), strings.Join(limit(others, 8), ", ")))
	score("ifunc", len(onlyIn(o.IFuncs, n.IFuncs)), "new indirect function (resolver run by the loader): "+strings.Join(limit(onlyIn(o.IFuncs, n.IFuncs), 10), ", "))

	oldSect := map[string]result.SectionProfile{}
	for _, s := range o.Sections {
		oldSect[s.Name] = s
	}
	var newSects, execSects, jumps []string
	for _, s := range n.Sections {
		old, ok := oldSect[s.Name]
		if !ok {
			newSects = append(newSects, fmt.Sprintf("%s (%d bytes, %s, entropy %.2f)", s.Name, s.Size, cmpOr(s.Perm, "not loaded"), s.Entropy))
			if strings.Contains(s.Perm, "x") {
				execSects = append(execSects, s.Name)
			}
			continue
		}
		if s.Entropy >= 7 && s.Entropy-old.Entropy >= 1 {
			jumps = append(jumps, fmt.Sprintf("%s entropy %.2f → %.2f", s.Name, old.Entropy, s.Entropy))
		}
	}
	if grown := sectionGrowth(o.Sections, n.Sections); grown != "" {
		details = append(details, grown)
	}
	score("section", len(newSects), "new section "+strings.Join(limit(newSects, 5), ", "))
	score("executable-sect", len(execSects), "new executable section "+strings.Join(execSects, ", "))
	score("entropy", len(jumps), "entropy jump: "+strings.Join(jumps, ", "))
	if n.Entropy-o.Entropy >= 1 && n.Entropy >= 7 {
		score("whole-entropy", 1, fmt.Sprintf("file entropy %.2f → %.2f", o.Entropy, n.Entropy))
	}
	lost := onlyIn(n.Hardening, o.Hardening)
	score("hardening", len(lost), "hardening lost: "+strings.Join(lost, ", "))
	if n.Constructors > o.Constructors {
		score("constructors", 1, fmt.Sprintf("functions run before main: %d → %d", o.Constructors, n.Constructors))
	}
	score("packer", len(onlyIn(o.Packers, n.Packers)), "packed with "+strings.Join(onlyIn(o.Packers, n.Packers), ", "))
	interesting := onlyIn(o.Interesting, n.Interesting)
	score("interesting", len(interesting), "new strings of interest: "+strings.Join(quoteAll(limit(interesting, 8)), ", "))
	switch {
	case len(o.Signers) > 0 && len(n.Signers) == 0:
		score("signature-lost", 1, "no longer signed; was signed by "+strings.Join(o.Signers, "; "))
	case len(onlyIn(signerNames(o.Signers), signerNames(n.Signers))) > 0 && len(o.Signers) > 0:
		score("signer", 1, "signed by "+strings.Join(n.Signers, "; ")+" instead of "+strings.Join(o.Signers, "; "))
	case len(onlyIn(o.Signers, n.Signers)) > 0 && len(o.Signers) > 0:
		score("certificate", 1, "signed by the same name with another certificate: "+strings.Join(n.Signers, "; ")+" instead of "+strings.Join(o.Signers, "; "))
	}
	modules := newModules(o.Modules, n.Modules)
	score("module", len(modules), "new built-in module: "+strings.Join(limit(modules, 10), ", "))
	obs := onlyIn(o.Observations, n.Observations)
	best, other := 0, 0
	for _, x := range obs {
		kind, _, _ := strings.Cut(x, ":")
		if w, ok := observationWeights[kind]; ok {
			best = max(best, w)
		} else {
			other++
		}
	}
	if best > 0 {
		risk += best + 5*(len(obs)-other-1)
		details = append(details, "new in the script: "+strings.Join(quoteAll(limit(obs, 5)), ", "))
	} else {
		score("observation-other", other, "new in the script: "+strings.Join(quoteAll(limit(obs, 5)), ", "))
	}
	return risk, details
}

func cmpOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// onlyIn lists what b has and a has not (both sorted or not).
func onlyIn(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range a {
		in[x] = true
	}
	var out []string
	for _, x := range b {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func limit(list []string, n int) []string {
	if len(list) <= n {
		return list
	}
	return append(slices.Clone(list[:n]), fmt.Sprintf("and %d more", len(list)-n))
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		if strings.HasPrefix(s, "and ") && strings.HasSuffix(s, " more") {
			out[i] = s
			continue
		}
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func isDangerousImport(name string) bool {
	fn := name
	if _, f, ok := strings.Cut(name, "!"); ok {
		fn = strings.ToLower(f)
		if n := len(fn); n > 1 && (fn[n-1] == 'a' || fn[n-1] == 'w') && slices.Contains(dangerousImports, fn[:n-1]) {
			return true
		}
	}
	fn = strings.TrimPrefix(strings.ToLower(fn), "_")
	return slices.Contains(dangerousImports, fn)
}

// newDestinations are the hosts (of URLs, domains, addresses, e-mail domains) the new
// profile names and the old one does not, onion services apart.
func newDestinations(o, n []string) (hosts, onions []string) {
	oldHosts := map[string]bool{}
	for _, x := range o {
		oldHosts[hostOf(x)] = true
	}
	seen := map[string]bool{}
	for _, x := range n {
		h := hostOf(x)
		if h == "" || oldHosts[h] || seen[h] {
			continue
		}
		seen[h] = true
		if strings.HasPrefix(x, "onion:") || strings.HasSuffix(h, ".onion") {
			onions = append(onions, h)
		} else {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	slices.Sort(onions)
	return hosts, onions
}

// hostOf is the destination a network indicator names.
func hostOf(indicator string) string {
	kind, v, _ := strings.Cut(indicator, ":")
	switch kind {
	case "url":
		if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
			return strings.ToLower(u.Hostname())
		}
		return ""
	case "email":
		_, d, _ := strings.Cut(v, "@")
		return strings.ToLower(d)
	}
	return strings.ToLower(v)
}

// newModules are the modules (path@version) whose path the old profile does not list: a
// version change of a module already built in is the SBOM's to report.
func newModules(o, n []string) []string {
	paths := map[string]bool{}
	for _, m := range o {
		p, _, _ := strings.Cut(m, "@")
		paths[p] = true
	}
	var out []string
	for _, m := range n {
		p, _, _ := strings.Cut(m, "@")
		if !paths[p] {
			out = append(out, m)
		}
	}
	return out
}

// sectionGrowth says how the sizes of the executable sections changed, for a person
// judging whether a code change is the size of the fix it claims to be.
func sectionGrowth(o, n []result.SectionProfile) string {
	old := map[string]uint64{}
	for _, s := range o {
		old[s.Name] = s.Size
	}
	var parts []string
	for _, s := range n {
		was, ok := old[s.Name]
		if ok && was != s.Size && strings.Contains(s.Perm, "x") {
			parts = append(parts, fmt.Sprintf("%s %d → %d bytes (%+d)", s.Name, was, s.Size, int64(s.Size)-int64(was)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "code size: " + strings.Join(limit(parts, 5), ", ")
}

// signerNames are the signers without their certificate fingerprints.
func signerNames(signers []string) []string {
	out := make([]string, len(signers))
	for i, s := range signers {
		name, _, _ := strings.Cut(s, " (sha256 ")
		out[i] = name
	}
	return out
}
