package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/limits"
)

var errUnavailable = errors.New("analysis workers are not available on this system")

// Available reports whether workers can run here.
func Available() bool { return true }

const (
	maxRequest = 64 << 10  // one request's JSON
	maxReply   = 256 << 20 // one analyzer's facts
	pollEvery  = 10 * time.Millisecond
)

// proc is one worker process.
type proc struct {
	cmd   *exec.Cmd
	req   *net.UnixConn // requests, each with the file's descriptor (SOCK_SEQPACKET)
	resp  *os.File      // replies, length-prefixed JSON
	rd    *bufio.Reader
	tail  *tailWriter // the last of the worker's stdout and stderr
	waitd chan struct{}
	lim   *limits.Limits
	raw   bool // facts stay JSON (Config.RawFacts)
	// area is the transfer area the worker maps read-only: a file that fits is copied
	// into it instead of into a memory file of its own (see transferArea).
	area *os.File

	stopOnce sync.Once
	mu       sync.Mutex
	reason   string        // the limit that made the parent stop it
	measured string        // what was measured when it was stopped
	limitErr *limits.Error // the limit, for the error
	died     bool          // it ended while analysing
	peak     int64         // peak resident memory seen, bytes
}

// sawMemory records a measure of the worker's resident memory.
func (pr *proc) sawMemory(n int64) {
	pr.mu.Lock()
	pr.peak = max(pr.peak, n)
	pr.mu.Unlock()
}

// allowedEnv are the variables a worker inherits; nothing else (credentials, passwords
// for keys) reaches it.
var allowedEnv = []string{"PATH", "TZ", "LANG", "LC_ALL", "GORACE", "GOCOVERDIR", "GODEBUG"}

func start(cfg Config, lim *limits.Limits) (*proc, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("starting an analysis worker: %w", err)
	}
	parentEnd, childEnd := os.NewFile(uintptr(pair[0]), "worker-requests"), os.NewFile(uintptr(pair[1]), "worker-requests")
	defer childEnd.Close()
	respR, respW, err := os.Pipe()
	if err != nil {
		parentEnd.Close()
		return nil, fmt.Errorf("starting an analysis worker: %w", err)
	}
	defer respW.Close()
	area, areaRO, err := newTransferArea()
	if err != nil {
		parentEnd.Close()
		respR.Close()
		return nil, fmt.Errorf("starting an analysis worker: %w", err)
	}
	defer areaRO.Close()
	conn, err := net.FileConn(parentEnd)
	parentEnd.Close()
	if err != nil {
		respR.Close()
		area.Close()
		return nil, fmt.Errorf("starting an analysis worker: %w", err)
	}
	pr := &proc{req: conn.(*net.UnixConn), resp: respR, rd: bufio.NewReaderSize(respR, 64<<10), tail: &tailWriter{max: 8 << 10}, waitd: make(chan struct{}), lim: lim, raw: cfg.RawFacts, area: area}
	args := append(append([]string{}, cfg.Args...), Arg)
	cmd := &exec.Cmd{Path: cfg.Executable, Args: args, Dir: "/", Stdout: pr.tail, Stderr: pr.tail,
		ExtraFiles: []*os.File{childEnd, respW, areaRO}, SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}}
	for _, k := range allowedEnv {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// Let the garbage collector work hard before the memory limit is reached.
	cmd.Env = append(cmd.Env, "GOMEMLIMIT="+strconv.FormatInt(lim.WorkerMemory/10*7, 10), "GOTRACEBACK=single")
	// Open what Start would open itself before the thread that starts the worker is
	// confined.
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		pr.close()
		return nil, fmt.Errorf("starting an analysis worker: %w", err)
	}
	defer devnull.Close()
	cmd.Stdin = devnull
	if err := startConfined(cmd); err != nil {
		pr.close()
		return nil, fmt.Errorf("starting an analysis worker (%s): %w", cfg.Executable, err)
	}
	pr.cmd = cmd
	// The worker holds its ends now: without the parent's copies, its death is the end of
	// its replies (a worker that never says hello and is stopped, too).
	childEnd.Close()
	respW.Close()
	areaRO.Close()
	go func() {
		cmd.Wait()
		close(pr.waitd)
	}()
	// The worker reads nothing before its first request, so the limits are in force
	// before it sees a byte of the delivery.
	if err := restrict(cmd.Process.Pid, lim); err != nil {
		pr.stop()
		return nil, fmt.Errorf("limiting an analysis worker: %w", err)
	}
	if err := pr.hello(); err != nil {
		pr.stop()
		return nil, fmt.Errorf("starting an analysis worker (%s): %w", cfg.Executable, err)
	}
	return pr, nil
}

// runtimeReserve is the data memory the Go runtime maps at start and never touches (the
// heap arena index takes 32 MiB); RLIMIT_DATA allows it on top of worker-memory, which the
// watchdog holds resident memory to.
const runtimeReserve = 64 << 20

// spawner starts the workers of the process from one OS thread that Landlock confines
// (when the kernel has it), so that a worker runs in that domain from its first
// instruction. The thread lives as long as the process: a worker's parent-death signal
// follows the thread that started it.
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
	err  error // why the thread could not be confined
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// startConfined starts cmd from the confined thread.
func startConfined(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		ready := make(chan struct{})
		go func() {
			runtime.LockOSThread() // never unlocked: the thread is the spawner's alone
			if abi := landlockABI(); abi > 0 {
				exe, err := os.Executable()
				if err == nil {
					err = confineThread(abi, analysisDomain(exe))
				}
				if err != nil {
					spawner.err = fmt.Errorf("confining the analysis workers: %w", err)
				}
			}
			close(ready)
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
		<-ready
	})
	if spawner.err != nil {
		return spawner.err
	}
	done := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd, done}
	return <-done
}

// Confined reports whether workers run confined by Landlock on this kernel.
func Confined() bool { return landlockABI() > 0 }

// restrict sets the resource limits of the worker pid.
func restrict(pid int, lim *limits.Limits) error {
	if !raceBuild {
		if err := setLimit(pid, unix.RLIMIT_DATA, uint64(lim.WorkerMemory+runtimeReserve)); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		res int
		v   uint64
	}{{unix.RLIMIT_FSIZE, 0}, {unix.RLIMIT_CORE, 0}, {unix.RLIMIT_NOFILE, 64}} {
		if err := setLimit(pid, l.res, l.v); err != nil {
			return err
		}
	}
	return nil
}

// stop kills the worker and waits for it.
func (pr *proc) stop() {
	pr.stopOnce.Do(func() {
		if pr.cmd != nil && pr.cmd.Process != nil {
			pr.req.Close() // a worker between files ends on its own
			select {
			case <-pr.waitd:
			case <-time.After(100 * time.Millisecond):
				syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
				pr.cmd.Process.Kill()
				<-pr.waitd
			}
		}
		pr.close()
	})
}

func (pr *proc) close() {
	pr.req.Close()
	pr.resp.Close()
	pr.area.Close()
}

// kill stops the worker because it passed a limit.
func (pr *proc) kill(limit string, value int64, what, measured string) {
	pr.mu.Lock()
	if pr.reason == "" {
		pr.reason, pr.measured = limit, measured
		pr.limitErr = &limits.Error{Limit: limit, Value: value, What: what}
	}
	pr.mu.Unlock()
	pr.abort()
}

// abort kills the worker, for a reason that is not the file's (the run was cancelled) or
// that the caller reports itself.
func (pr *proc) abort() { killGroup(pr.cmd) }

// analyze sends one file to the worker and reads the analyzers' outcomes. It returns the
// outcomes it got, in order, and an error when the worker ended before the last one.
//
// The file's bytes are in the worker's transfer area (loaded of them) or, when c is not
// nil, behind c's descriptor.
func (pr *proc) analyze(ctx context.Context, lim *limits.Limits, list []analyzers.Analyzer, a *analyzers.Artifact, c *content, loaded int64) ([]analyzers.Outcome, error) {
	req := request{Path: a.Path, Format: string(a.Format), Interpreter: a.Interpreter, Mode: a.Mode,
		Size: a.Size, Limits: a.Limits, Loaded: -1}
	var rights []byte
	if c != nil {
		req.Offset = c.offset
		rights = unix.UnixRights(int(c.file.Fd()))
	} else {
		req.Loaded = loaded
	}
	for _, an := range list {
		req.Analyzers = append(req.Analyzers, an.Name())
	}
	b, err := json.Marshal(req)
	if err != nil || len(b) > maxRequest {
		return nil, fmt.Errorf("the request for this file is too large for an analysis worker (%d bytes)", len(b))
	}
	defer pr.watchLater(ctx, lim)()
	var out []analyzers.Outcome
	if _, _, err := pr.req.WriteMsgUnix(b, rights, nil); err != nil {
		return out, pr.ended(list, out, err)
	}
	for {
		var rep reply
		if err := pr.readReply(&rep); err != nil {
			return out, pr.ended(list, out, err)
		}
		if rep.Done {
			if len(out) != len(list) {
				return out, pr.ended(list, out, fmt.Errorf("the worker answered %d of %d analyzers", len(out), len(list)))
			}
			return out, nil
		}
		if len(out) >= len(list) || rep.Analyzer != list[len(out)].Name() {
			pr.abort()
			return out, pr.ended(list, out, fmt.Errorf("the worker answered for analyzer %q out of turn", rep.Analyzer))
		}
		an := list[len(out)]
		o := analyzers.Outcome{Analyzer: an.Name()}
		var facts any
		var err error
		if pr.raw {
			if len(rep.Facts) > 0 && string(rep.Facts) != "null" {
				facts = rep.Facts
			}
		} else {
			facts, err = decodeFacts(an, rep.Facts)
		}
		o.Facts = facts
		if rep.Err != nil {
			o.Err = rep.Err.err(an.Name())
		} else if err != nil {
			o.Err = err
		}
		out = append(out, o)
	}
}

// ended turns the end of a worker in the middle of a request into the error of the
// analyzer that was running.
func (pr *proc) ended(list []analyzers.Analyzer, out []analyzers.Outcome, cause error) error {
	name := "analysis"
	if len(out) < len(list) {
		name = list[len(out)].Name()
	}
	pr.cmd.Process.Kill()
	<-pr.waitd
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.limitErr != nil {
		return &StoppedError{Analyzer: name, Limit: pr.reason, Detail: pr.measured, limit: pr.limitErr}
	}
	words := lastLine(pr.tail.bytes())
	if strings.Contains(words, "out of memory") || strings.Contains(words, "cannot allocate memory") || runtimeFault(pr.tail.bytes()) {
		// An allocation failed under RLIMIT_DATA.
		pr.reason, pr.measured = "worker-memory", words
		return &StoppedError{Analyzer: name, Limit: "worker-memory", Detail: words,
			limit: &limits.Error{Limit: "worker-memory", Value: pr.lim.WorkerMemory, What: "the memory the analysis of this file took"}}
	}
	pr.died = true
	if words == "" {
		words = cause.Error()
		if st := pr.cmd.ProcessState; st != nil {
			words = st.String()
		}
	}
	return &StoppedError{Analyzer: name, Detail: words}
}

// runtimeFault reports whether a worker died of a fault inside the Go runtime itself. Under
// RLIMIT_DATA a failed mapping can surface that way (in the garbage collector's queues, for
// one) instead of as "out of memory"; the analyzers are Go code without cgo, so a fault in
// the runtime of a worker under the limit, or in the C code that starts its threads, is the
// limit.
func runtimeFault(out []byte) bool {
	if raceBuild {
		return false
	}
	// A mapping refused to C code the runtime calls (a test binary built with cgo creates
	// its threads with pthread_create) faults outside Go's code, or fails the thread.
	if bytes.Contains(out, []byte("unknown pc")) || bytes.Contains(out, []byte("pthread_create failed")) {
		return true
	}
	if !bytes.HasPrefix(bytes.TrimSpace(out), []byte("SIGSEGV")) && !bytes.Contains(out, []byte("unexpected signal during runtime execution")) {
		return false
	}
	// The first frame of the faulting goroutine names the runtime.
	i := bytes.Index(out, []byte("\ngoroutine "))
	if i < 0 {
		return false
	}
	rest := out[i+1:]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[j+1:]
	}
	return bytes.HasPrefix(rest, []byte("runtime."))
}

// helloTimeout bounds the wait for a new worker's first word.
const helloTimeout = 20 * time.Second

// hello waits for the worker's first reply, which says it serves as a worker.
func (pr *proc) hello() error {
	t := time.AfterFunc(helloTimeout, pr.abort)
	defer t.Stop()
	var rep reply
	if err := pr.readReply(&rep); err != nil || !rep.Done {
		if words := lastLine(pr.tail.bytes()); words != "" {
			return fmt.Errorf("it did not answer as an analysis worker: %s", words)
		}
		return fmt.Errorf("it did not answer as an analysis worker within %s (does its main call worker.Serve for %q?)", helloTimeout, Arg)
	}
	return nil
}

// readReply reads one length-prefixed reply.
func (pr *proc) readReply(rep *reply) error {
	b, err := readFrame(pr.rd)
	if err != nil {
		if _, big := err.(errFrameTooLarge); big {
			pr.abort()
		}
		return err
	}
	return json.Unmarshal(b, rep)
}

// watchLater starts watching the worker once it has spent pollEvery on a file, and
// returns the function that ends the watch. Most files take less: the two reads of /proc
// that watching a file costs took more CPU than analysing it. The CPU time of the first
// pollEvery is not counted against parse-cpu, a limit in seconds.
func (pr *proc) watchLater(ctx context.Context, lim *limits.Limits) (stop func()) {
	started := time.Now()
	done := make(chan struct{})
	t := time.AfterFunc(pollEvery, func() { pr.watch(ctx, lim, started, done) })
	return func() {
		t.Stop()
		close(done)
	}
}

// watch stops the worker when it passes a limit while it analyses one file, which it
// started at started.
func (pr *proc) watch(ctx context.Context, lim *limits.Limits, started time.Time, done <-chan struct{}) {
	pid := pr.cmd.Process.Pid
	cpu0 := cpuTicks(pid)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	defer func() { pr.sawMemory(residentBytes(pid)) }()
	for {
		select {
		case <-done:
			return
		case <-pr.waitd:
			return
		case <-ctx.Done():
			pr.abort()
			return
		case <-t.C:
		}
		select {
		case <-done: // the file is done; the worker may be on the next one already
			return
		default:
		}
		rss := residentBytes(pid)
		pr.sawMemory(rss)
		if rss > lim.WorkerMemory {
			pr.kill("worker-memory", lim.WorkerMemory, "the memory the analysis of this file took", fmt.Sprintf("resident memory reached %s", limits.HumanSize(rss)))
			return
		}
		if el := time.Since(started); el > time.Duration(lim.ParseTimeout)*time.Second {
			pr.kill("parse-timeout", lim.ParseTimeout, "the time the analysis of this file took", fmt.Sprintf("still running after %s", el.Round(time.Millisecond)))
			return
		}
		if used := cpuTicks(pid) - cpu0; used > lim.ParseCPU*clockTicks {
			pr.kill("parse-cpu", lim.ParseCPU, "the CPU time the analysis of this file took", fmt.Sprintf("%.2f s of CPU time", float64(used)/clockTicks))
			return
		}
	}
}

const clockTicks = 100 // USER_HZ, the unit of /proc/PID/stat times on Linux

// cpuTicks is the user and system time of pid, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

var pageSize = int64(os.Getpagesize())

// residentBytes is the resident memory of pid that is its own: anonymous memory, without
// the pages of the binary it shares with kensa and every other worker.
func residentBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0
	}
	resident, _ := strconv.ParseInt(f[1], 10, 64)
	shared, _ := strconv.ParseInt(f[2], 10, 64)
	return (resident - shared) * pageSize
}

// content is a file's bytes as a descriptor a worker can read.
type content struct {
	file   *os.File
	offset int64
	owned  bool // a memfd made for this file, closed after
}

func (c *content) close() {
	if c.owned {
		c.file.Close()
	}
}

// outer is what io.SectionReader and readers built on it reveal of what they read.
type outer interface {
	Outer() (io.ReaderAt, int64, int64)
}

// openContent finds the file behind a's bytes, or copies them into a memfd.
func openContent(a *analyzers.Artifact) (*content, error) {
	var r io.ReaderAt = a.Content
	var off int64
	for range 8 {
		switch v := r.(type) {
		case *os.File:
			return &content{file: v, offset: off}, nil
		case outer:
			inner, o, _ := v.Outer()
			r, off = inner, off+o
			continue
		}
		break
	}
	fd, err := unix.MemfdCreate("kensa-analysis", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "kensa-analysis")
	if _, err := io.Copy(f, io.NewSectionReader(a.Content, 0, a.Size)); err != nil {
		f.Close()
		return nil, err
	}
	return &content{file: f, owned: true}, nil
}

// tailWriter keeps the first and the last max bytes written to it: a Go runtime's fatal
// error comes first, followed by stack traces.
type tailWriter struct {
	mu   sync.Mutex
	max  int
	head []byte
	b    []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := min(len(p), t.max-len(t.head)); n > 0 {
		t.head = append(t.head, p[:n]...)
	}
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// bytes returns what was kept: the head, then the tail.
func (t *tailWriter) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append(append([]byte(nil), t.head...), t.b...)
}
