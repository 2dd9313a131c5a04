package script

// Facts is what the script analyzer reports about one artifact: a script (its language,
// interpreter, shape and the commands in it that a reviewer looks at), and every place
// where the artifact makes code run when a package is installed, upgraded or removed (deb
// maintainer scripts, rpm scriptlets, npm lifecycle scripts, Python build hooks).
type Facts struct {
	// Kind is what the artifact was read as: "script" (a program text), "rpm" (an rpm
	// package, whose scriptlets are read from its header), "package-json" (an npm package
	// manifest), "pyproject" (a pyproject.toml), "setup-cfg" (a setuptools setup.cfg),
	// "control" (a package control file that is not a script, such as a deb's triggers or
	// conffiles) or "binary" (an install hook that is machine code, not text).
	Kind string `json:"kind"`

	// Language is the language of the script: "sh", "bash", "dash", "zsh", "ksh", "csh",
	// "fish", "python", "perl", "ruby", "node", "powershell", "batch", "vbscript", "lua",
	// "php", "tcl", "awk", "expect" or "other" (an interpreter none of these), empty when
	// unknown or when Kind is not "script".
	Language string `json:"language,omitempty"`
	// LanguageSource is what decided Language: "shebang" (the #! line), "extension" (the
	// file name) or "content" (keywords in the first 16 KiB, for a file with neither, such
	// as a deb maintainer script without a #! line).
	LanguageSource string `json:"languageSource,omitempty"`
	// Interpreter is the program the #! line names, as written ("/usr/bin/env", "/bin/sh").
	Interpreter string `json:"interpreter,omitempty"`
	// InterpreterArgs are the words after the program on the #! line, as written
	// (["-S", "python3", "-u"] for "#!/usr/bin/env -S python3 -u").
	InterpreterArgs []string `json:"interpreterArgs,omitempty"`
	// InterpreterName is the program that runs the script once /usr/bin/env and its
	// options are looked through, as a base name with its version ("python3.11", "sh").
	InterpreterName string `json:"interpreterName,omitempty"`

	// Size is the artifact's size in bytes. The line, encoding and command facts below are
	// zero for artifacts that are not read as a script (Kind other than "script").
	Size int64 `json:"size"`
	// ScannedBytes is how many leading bytes were read for the line, encoding and command
	// facts; less than Size only when the file is larger than the analyzer's scan cap
	// (64 MiB), in which case Truncated is true.
	ScannedBytes int64 `json:"scannedBytes"`
	// Truncated is true when the file was larger than the scan cap and only its first
	// ScannedBytes bytes were read.
	Truncated bool `json:"truncated,omitempty"`
	// Lines is the number of lines in the scanned bytes (a last line without a line end
	// counts).
	Lines int64 `json:"lines"`
	// LongestLine is the length in bytes of the longest line, without its line end.
	LongestLine int64 `json:"longestLine"`
	// BOM names the byte-order mark the file starts with: "utf-8", "utf-16le" or
	// "utf-16be"; empty when there is none. UTF-16 text is decoded before it is scanned.
	BOM string `json:"bom,omitempty"`
	// CRLF is true when at least one line ends with CR LF.
	CRLF bool `json:"crlf"`
	// CRLFLines is the number of lines that end with CR LF.
	CRLFLines int64 `json:"crlfLines,omitempty"`
	// Entropy is the Shannon entropy of the scanned bytes in bits per byte (0 to 8); plain
	// scripts are around 4.5 to 5.5, embedded compressed or encoded payloads push it up.
	Entropy float64 `json:"entropy"`

	// Observations are the commands and constructs in the script that a reviewer looks at
	// (downloads piped into an interpreter, decoded payloads run, new accounts, setuid
	// bits, …), in file order, at most 256. Whole-line comments are passed over, and only
	// the first 64 KiB of a longer line is examined.
	Observations []Observation `json:"observations,omitempty"`
	// ObservationsTruncated is true when there were more observations than are listed.
	ObservationsTruncated bool `json:"observationsTruncated,omitempty"`

	// InstallHooks are the places where the artifact makes code run, or changes what the
	// package manager does, at install, upgrade or removal time; at most 256.
	InstallHooks []Hook `json:"installHooks,omitempty"`
	// InstallHooksTruncated is true when there were more hooks than are listed.
	InstallHooksTruncated bool `json:"installHooksTruncated,omitempty"`

	// Python holds what a setup.py, setup.cfg or pyproject.toml says about building the
	// package; nil for other artifacts.
	Python *PythonBuild `json:"python,omitempty"`
	// RPM identifies the rpm package whose scriptlets are listed; nil for other artifacts.
	RPM *RPMPackage `json:"rpm,omitempty"`
}

// Observation is one command or construct in a script, reported as seen, without a
// judgement.
type Observation struct {
	// Kind is the shape seen:
	//   "pipe-to-shell": a download (curl, wget, fetch, …) piped into or substituted into
	//     a shell or interpreter;
	//   "download-execute": a PowerShell download (Net.WebClient DownloadString,
	//     Invoke-WebRequest, …) passed to Invoke-Expression;
	//   "base64-to-interpreter": base64-decoded data piped into or evaluated by an
	//     interpreter, or a PowerShell -EncodedCommand;
	//   "dynamic-eval": eval, exec, Invoke-Expression, new Function of a value that is not
	//     a plain string literal;
	//   "ld-so-preload-write": a write to /etc/ld.so.preload;
	//   "ld-so-preload-reference": another mention of /etc/ld.so.preload;
	//   "cron-entry": crontab run (other than crontab -l or -e alone), or a write into a
	//     cron directory or file;
	//   "scheduled-task": a Windows scheduled task created (schtasks /create,
	//     Register-ScheduledTask, New-ScheduledTask);
	//   "systemd-unit": a unit file written or a unit enabled with systemctl;
	//   "user-add": useradd, adduser, usermod, groupadd, addgroup, newusers, a write to
	//     /etc/passwd, New-LocalUser or net user … /add;
	//   "password-set": chpasswd, chgpasswd, passwd, useradd or usermod with -p, or a
	//     write to /etc/shadow;
	//   "sudoers-write": a write to /etc/sudoers or /etc/sudoers.d;
	//   "authorized-keys": a mention of an ssh authorized_keys file;
	//   "setuid-chmod": chmod adding the setuid or setgid bit (+s, u+s, g+s, 4755, …);
	//   "dev-tcp": a bash /dev/tcp or /dev/udp redirection;
	//   "netcat-exec": nc, ncat or netcat with -e or -c (a program bound to a socket).
	Kind string `json:"kind"`
	// Line is the 1-based line the construct starts on (for a line continued with a
	// backslash, its first line).
	Line int64 `json:"line"`
	// Text is the line (lines continued with a backslash joined by blanks), trimmed of
	// leading and trailing blanks, cut to 512 bytes.
	Text string `json:"text"`
}

// Hook is one place where code runs, or the package manager's behaviour changes, when a
// package is installed, upgraded or removed.
type Hook struct {
	// System is the package system: "deb", "rpm", "npm", "python", "apk" (Alpine) or
	// "pacman" (Arch Linux).
	System string `json:"system"`
	// Name is the hook's name in that system: for deb "preinst", "postinst", "prerm",
	// "postrm", "config", "triggers", "conffiles"; for rpm "prein", "postin", "preun",
	// "postun", "pretrans", "posttrans", "verifyscript", "trigger", "filetrigger",
	// "transfiletrigger"; for npm the script name ("preinstall", "install",
	// "postinstall", "preuninstall", "uninstall", "postuninstall", "prepare",
	// "prepublish"); for python "setup.py", "build-backend" or "cmdclass"; for apk
	// ".pre-install" and its siblings; for pacman ".INSTALL".
	Name string `json:"name"`
	// When is when the hook runs: "before-install", "after-install", "before-remove",
	// "after-remove", "before-transaction", "after-transaction", "configure" (debconf
	// questions, before the package is unpacked), "trigger" (when another package touches
	// what the trigger watches), "verify" (rpm -V), "build" (when the package is built
	// from source, which pip and npm do at install time), "before-publish" (npm, also on a
	// local npm install) or "upgrade" (a list dpkg consults on upgrade; no code runs).
	When string `json:"when"`
	// RunsCode is true when the package manager runs code for the hook; false for hooks
	// that only declare something (a deb's triggers and conffiles files).
	RunsCode bool `json:"runsCode"`
	// Language is the language of the hook body, as for Facts.Language; "lua" for rpm's
	// built-in Lua interpreter; the executable format ("elf", "pe", …) when the hook is
	// machine code.
	Language string `json:"language,omitempty"`
	// Interpreter is the program and arguments that run the hook, as the package records
	// them (["/bin/sh"], ["<lua>"], ["/usr/bin/perl", "-w"]).
	Interpreter []string `json:"interpreter,omitempty"`
	// Size is the hook body's length in bytes (the whole body, also when Body is cut).
	Size int64 `json:"size"`
	// Body is the hook's text where it lives outside any file the inventory lists: an rpm
	// scriptlet, an npm script command, a pyproject build-backend; cut to 64 KiB (see
	// BodyTruncated). Empty for hooks that are files of their own (a deb postinst), whose
	// text the file's own facts describe.
	Body string `json:"body,omitempty"`
	// BodyTruncated is true when Body is shorter than Size.
	BodyTruncated bool `json:"bodyTruncated,omitempty"`
	// Observations are the observations made in Body (see Observation), at most 64.
	Observations []Observation `json:"observations,omitempty"`
}

// PythonBuild is what a Python project's build files say about the code that runs when the
// package is built or installed from source.
type PythonBuild struct {
	// Cmdclass is true when setup.py or setup.cfg passes custom command classes
	// (cmdclass), which replace setuptools' own install or build steps.
	Cmdclass bool `json:"cmdclass"`
	// CustomCommands are classes defined in setup.py that derive from a setuptools or
	// distutils command, as "Class(base)" ("PostInstall(install)"); at most 32.
	CustomCommands []string `json:"customCommands,omitempty"`
	// Imports are the modules of interest setup.py imports, among "subprocess", "os",
	// "urllib", "urllib2", "urllib.request", "requests", "http.client", "socket",
	// "base64", "ctypes", "zlib", "marshal", "pickle", "tempfile", "shutil"; sorted.
	Imports []string `json:"imports,omitempty"`
	// Exec is true when setup.py calls exec().
	Exec bool `json:"exec"`
	// Eval is true when setup.py calls eval().
	Eval bool `json:"eval"`
	// Compile is true when setup.py calls compile().
	Compile bool `json:"compile"`
	// BuildBackend is the build-backend of pyproject.toml's [build-system] table
	// ("setuptools.build_meta"); empty when absent.
	BuildBackend string `json:"buildBackend,omitempty"`
	// BuildRequires are the requires of the [build-system] table; at most 64.
	BuildRequires []string `json:"buildRequires,omitempty"`
	// BackendPath is the backend-path of the [build-system] table: directories of the
	// source tree the backend is imported from (an in-tree backend).
	BackendPath []string `json:"backendPath,omitempty"`
}

// RPMPackage identifies the rpm package whose scriptlets Facts.InstallHooks lists.
type RPMPackage struct {
	// Name is the header's NAME.
	Name string `json:"name"`
	// Version is the header's VERSION.
	Version string `json:"version"`
	// Release is the header's RELEASE.
	Release string `json:"release"`
	// Arch is the header's ARCH ("x86_64", "noarch").
	Arch string `json:"arch,omitempty"`
	// Source is true for a source package.
	Source bool `json:"source"`
}
