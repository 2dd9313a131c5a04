package worker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

// The test binary serves as its own worker, as kensa does.
func TestMain(m *testing.M) {
	extra = append(extra, hang{"sleep"}, hang{"spin"}, escape{})
	if len(os.Args) > 1 && os.Args[len(os.Args)-1] == Arg {
		os.Exit(Serve())
	}
	os.Exit(m.Run())
}

func newPool(t *testing.T, lim limits.Limits) *Pool {
	t.Helper()
	p, err := New(Config{Size: 2, Limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// artifact describes the file at path as the inventory would, with content read through
// an *os.File (path != "") or from memory.
func artifact(t *testing.T, name string, b []byte, onDisk bool, lim *limits.Limits) *analyzers.Artifact {
	t.Helper()
	a := &analyzers.Artifact{Path: name, Mode: "0755", Size: int64(len(b)), Limits: lim}
	d := sniff.Detect(b[:min(len(b), sniff.HeadSize)], name, a.Size)
	a.Format, a.Interpreter = d.Format, d.Interpreter
	if onDisk {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		a.Content = f
	} else {
		a.Content = bytes.NewReader(b)
	}
	return a
}

func wanting(a *analyzers.Artifact) []analyzers.Analyzer {
	var out []analyzers.Analyzer
	for _, an := range registry.All() {
		if an.Wants(a) {
			out = append(out, an)
		}
	}
	return out
}

// TestSameFactsAsInProcess: facts from a worker are the facts the analyzers make in this
// process, for a real Go binary (this test), a script, from disk and from memory.
func TestSameFactsAsInProcess(t *testing.T) {
	lim := limits.Default()
	pool := newPool(t, lim)
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	script := []byte("#!/bin/sh\ncurl -fsSL https://updates.example.net/agent.sh | sh\necho done\n")
	for _, c := range []struct {
		name   string
		b      []byte
		onDisk bool
	}{{"worker.test", self, true}, {"install.sh", script, true}, {"install-mem.sh", script, false}} {
		t.Run(c.name, func(t *testing.T) {
			a := artifact(t, c.name, c.b, c.onDisk, &lim)
			list := wanting(a)
			if len(list) == 0 {
				t.Fatalf("no analyzer wants %s (%s)", c.name, a.Format)
			}
			want := analyzers.Run(context.Background(), list, a)
			got := pool.Run(context.Background(), list, a)
			if len(got) != len(want) {
				t.Fatalf("%d outcomes from the worker, %d in process", len(got), len(want))
			}
			for i := range want {
				wj, _ := json.Marshal(want[i].Facts)
				gj, _ := json.Marshal(got[i].Facts)
				if got[i].Analyzer != want[i].Analyzer || !bytes.Equal(wj, gj) || (got[i].Err == nil) != (want[i].Err == nil) {
					t.Errorf("%s: worker gave %s (err %v), in process %s (err %v)", want[i].Analyzer, gj, got[i].Err, wj, want[i].Err)
				}
			}
		})
	}
	if st := pool.Stats(); st.Stopped+st.Died != 0 {
		t.Errorf("workers stopped or died on ordinary files: %+v", st)
	}
}

// peBomb is a PE header followed by zeros: the PE analyzer reads a PE file whole.
func peBomb(size int) []byte {
	b := make([]byte, size)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x40)
	copy(b[0x40:], "PE\x00\x00")
	return b
}

// TestMemoryBombStopsOneWorker: the analyzer that runs out of memory gets a limit error
// naming worker-memory, the analyzers after it still run (in a fresh worker), and the
// pool goes on serving files.
func TestMemoryBombStopsOneWorker(t *testing.T) {
	lim := limits.Default()
	lim.WorkerMemory = 96 << 20
	pool := newPool(t, lim)
	a := artifact(t, "bomb.exe", peBomb(200<<20), true, &lim)
	list := wanting(a)
	outs := pool.Run(context.Background(), list, a)
	var stopped int
	var stringsRan bool
	for _, o := range outs {
		stringsRan = stringsRan || o.Analyzer == "strings" && o.Facts != nil
		var se *StoppedError
		if errors.As(o.Err, &se) {
			stopped++
			if o.Analyzer != "pe" || se.Limit != "worker-memory" || !limits.IsLimit(o.Err) {
				t.Errorf("%s: %v (limit %q); want the pe analyzer stopped at worker-memory", o.Analyzer, o.Err, se.Limit)
			}
			if !strings.Contains(o.Err.Error(), "worker-memory limit of 96M") {
				t.Errorf("error does not name the limit: %v", o.Err)
			}
		} else if o.Err != nil {
			t.Errorf("%s: unexpected error %v", o.Analyzer, o.Err)
		}
	}
	if stopped != 1 {
		t.Fatalf("%d analyzers stopped, want exactly the pe analyzer: %+v", stopped, outs)
	}
	if !stringsRan {
		t.Errorf("the strings analyzer, after pe in the list, did not run again in a fresh worker: %+v", outs)
	}
	st := pool.Stats()
	if st.Stopped != 1 || st.Died != 0 {
		t.Errorf("stats %+v: want one worker stopped at a limit", st)
	}
	// The pool still works.
	ok := artifact(t, "ok.sh", []byte("#!/bin/sh\necho ok\n"), false, &lim)
	for _, o := range pool.Run(context.Background(), wanting(ok), ok) {
		if o.Err != nil || o.Facts == nil {
			t.Errorf("after the bomb, %s: facts %v, err %v", o.Analyzer, o.Facts, o.Err)
		}
	}
	pool.Close()
	// In a release build RLIMIT_DATA makes the allocation itself fail: the worker never
	// holds much more than its limit, however busy the machine. A race-detector build has
	// only the watchdog, whose reaction depends on the scheduler; make test checks this
	// bound in a build without the race detector.
	if st := pool.Stats(); !raceBuild && st.PeakMemory > lim.WorkerMemory*3/2 {
		t.Errorf("a worker was seen at %s, far past the %s limit", limits.HumanSize(st.PeakMemory), limits.HumanSize(lim.WorkerMemory))
	} else if raceBuild {
		t.Logf("a worker was seen at %s with a limit of %s (a race-detector build: the watchdog alone)", limits.HumanSize(st.PeakMemory), limits.HumanSize(lim.WorkerMemory))
	}
}

// TestErrorsKeepTheirClass: an analyzer's error crosses the process boundary with its
// message and the class the inventory files it under.
func TestErrorsKeepTheirClass(t *testing.T) {
	for _, c := range []struct {
		err   error
		check func(error) bool
	}{
		{&limits.Error{Limit: "file-size", Value: 1 << 20, What: "this"}, limits.IsLimit},
		{errors.Join(errors.New("x"), analyzers.ErrBound), func(e error) bool { return errors.Is(e, analyzers.ErrBound) }},
		{errors.Join(errors.New("y"), analyzers.ErrUnsupported), func(e error) bool { return errors.Is(e, analyzers.ErrUnsupported) }},
		{&analyzers.PanicError{Analyzer: "elf", Value: "boom", Stack: []byte("trace")}, func(e error) bool {
			var pe *analyzers.PanicError
			return errors.As(e, &pe) && pe.Value == "boom"
		}},
	} {
		w := toWire("elf", c.err)
		b, _ := json.Marshal(w)
		var back wireError
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got := back.err("elf")
		if got.Error() != c.err.Error() || !c.check(got) {
			t.Errorf("%T %q came back as %T %q", c.err, c.err, got, got)
		}
	}
}

// TestWorkerEnvironment: a worker inherits no credentials from kensa's environment.
func TestWorkerEnvironment(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "secret")
	t.Setenv("PATH", os.Getenv("PATH"))
	for _, k := range allowedEnv {
		if strings.Contains(k, "PASS") || strings.Contains(k, "TOKEN") || strings.HasPrefix(k, "AWS") {
			t.Errorf("%s must not reach a worker", k)
		}
	}
	lim := limits.Default()
	pr, err := start(Config{Executable: os.Args[0], Args: []string{os.Args[0]}}, &lim)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.stop()
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pr.cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, []byte("COSIGN_PASSWORD")) {
		t.Errorf("the worker's environment holds COSIGN_PASSWORD: %q", env)
	}
	found := false
	limitsFile, _ := os.ReadFile("/proc/" + strconv.Itoa(pr.cmd.Process.Pid) + "/limits")
	for _, l := range strings.Split(string(limitsFile), "\n") {
		if strings.HasPrefix(l, "Max file size") {
			f := strings.Fields(l)
			if len(f) < 5 || f[3] != "0" {
				t.Errorf("the worker may write files: %q", l)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("no file size limit in %s", limitsFile)
	}
}

// hang is an analyzer that never ends on a file of format "hang-test": "sleep" waits,
// "spin" burns CPU. It stands for a parser caught in a loop (saferwall #128, relocation
// blocks of size 0), which kensa's own analyzers are bounded against.
type hang struct{ name string }

type hangFacts struct{ Done bool }

func (h hang) Name() string                     { return h.name }
func (h hang) Schema() any                      { return (*hangFacts)(nil) }
func (h hang) Wants(a *analyzers.Artifact) bool { return a.Format == "hang-test" }
func (h hang) Analyze(ctx context.Context, a *analyzers.Artifact) (any, error) {
	if h.name == "sleep" {
		time.Sleep(time.Hour)
	}
	for x := 0; ; x++ {
		if x == -1 {
			return &hangFacts{Done: true}, nil
		}
	}
}

// TestHangStopsAtTimeLimits: a file whose analysis does not end costs one error, at
// parse-timeout when the parser waits and at parse-cpu when it spins.
func TestHangStopsAtTimeLimits(t *testing.T) {
	for _, c := range []struct {
		analyzer, limit string
		timeout, cpu    int64
	}{{"sleep", "parse-timeout", 1, 60}, {"spin", "parse-cpu", 60, 1}} {
		t.Run(c.analyzer, func(t *testing.T) {
			lim := limits.Default()
			lim.ParseTimeout, lim.ParseCPU = c.timeout, c.cpu
			pool := newPool(t, lim)
			a := &analyzers.Artifact{Path: "loop.bin", Format: "hang-test", Size: 4, Content: bytes.NewReader([]byte("loop")), Limits: &lim}
			outs := pool.Run(context.Background(), []analyzers.Analyzer{hang{c.analyzer}}, a)
			var se *StoppedError
			if len(outs) != 1 || !errors.As(outs[0].Err, &se) || se.Limit != c.limit || !limits.IsLimit(outs[0].Err) {
				t.Fatalf("outcomes %+v; want the %s analyzer stopped at %s", outs, c.analyzer, c.limit)
			}
			t.Log(outs[0].Err)
		})
	}
}

// escape is an analyzer that does what a parser taken over by a hostile file would: it
// reads the file named by the artifact's path (the signing key, say) and connects to the
// address in its interpreter field.
type escape struct{}

type escapeFacts struct {
	Read, Dial string // the errors, empty when it got through
}

func (escape) Name() string                     { return "escape" }
func (escape) Schema() any                      { return (*escapeFacts)(nil) }
func (escape) Wants(a *analyzers.Artifact) bool { return a.Format == "escape-test" }
func (escape) Analyze(_ context.Context, a *analyzers.Artifact) (any, error) {
	f := &escapeFacts{Read: "read it", Dial: "connected"}
	if _, err := os.ReadFile(a.Path); err != nil {
		f.Read = err.Error()
	}
	if c, err := net.DialTimeout("tcp", a.Interpreter, time.Second); err != nil {
		f.Dial = err.Error()
	} else {
		c.Close()
	}
	return f, nil
}

// TestWorkerConfined: a worker cannot open a file (the signing key beside kensa) nor
// reach the network, whatever a hostile file makes its parser do.
func TestWorkerConfined(t *testing.T) {
	if !Confined() {
		t.Skip("this kernel has no Landlock: workers run under their resource limits alone (docs/security.md)")
	}
	key := filepath.Join(t.TempDir(), "acceptance.key")
	os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lim := limits.Default()
	pool := newPool(t, lim)
	a := &analyzers.Artifact{Path: key, Format: "escape-test", Interpreter: ln.Addr().String(), Size: 1, Content: bytes.NewReader([]byte("x")), Limits: &lim}
	outs := pool.Run(context.Background(), []analyzers.Analyzer{escape{}}, a)
	if len(outs) != 1 || outs[0].Err != nil {
		t.Fatalf("outcomes %+v", outs)
	}
	f := outs[0].Facts.(*escapeFacts)
	if !strings.Contains(f.Read, "permission denied") || !strings.Contains(f.Dial, "permission denied") {
		t.Errorf("a worker got out: read %q, dial %q", f.Read, f.Dial)
	}
	// The same analyzer in kensa's own process reads the key: the test can tell.
	if in := analyzers.Run(context.Background(), []analyzers.Analyzer{escape{}}, a); in[0].Facts.(*escapeFacts).Read != "read it" {
		t.Errorf("in process the key is not readable either: %+v", in[0].Facts)
	}
}

// TestRuntimeFault: a fault inside the Go runtime of a worker under RLIMIT_DATA is the
// memory limit; a fault in other code is not.
func TestRuntimeFault(t *testing.T) {
	gc := "SIGSEGV: segmentation violation\nPC=0x435b9d m=5 sigcode=1 addr=0x0\n\ngoroutine 0 gp=0x26889e0a0780 m=5 [idle]:\nruntime.(*spanQueue).tryDrain(0x7f5a00000400?)\n"
	other := "SIGSEGV: segmentation violation\nPC=0x435b9d m=5 sigcode=1 addr=0x0\n\ngoroutine 7 gp=0x1 m=5 [running]:\nexample.com/parser.walk(0x0)\n"
	// A thread's creation failing in C code (a cgo build), as seen under the limit.
	cthread := "runtime: g 0 gp=0x371e8a655860: unknown pc 0x7fee30680eec\nstack: frame={sp:0x7fee2effce80, fp:0x0} stack=[0x7fee2e7fd000,0x7fee2effd000)\n"
	for _, out := range []string{gc, cthread} {
		if got := runtimeFault([]byte(out)); got == raceBuild {
			t.Errorf("runtime fault %.40q: %v (race build %v)", out, got, raceBuild)
		}
	}
	if runtimeFault([]byte(other)) || runtimeFault([]byte("fatal error: all goroutines are asleep")) {
		t.Error("a fault outside the runtime taken for the memory limit")
	}
}
