package proctree

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestMemoryCountsChildren starts a child that holds 64 MiB of its own and shows that the
// tree's figure grows by that much while this process's own does not.
func TestMemoryCountsChildren(t *testing.T) {
	if os.Getenv("PROCTREE_HOLD") != "" {
		n, _ := strconv.Atoi(os.Getenv("PROCTREE_HOLD"))
		b := make([]byte, n)
		for i := range b {
			b[i] = 1
		}
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Minute)
		b[0] = 2
		return
	}
	before, err := Memory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	const hold = 64 << 20
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMemoryCountsChildren$")
	cmd.Env = append(os.Environ(), "PROCTREE_HOLD="+strconv.Itoa(hold))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the child did not get ready: %q %v", buf, err)
	}
	s := Sample(os.Getpid(), time.Millisecond)
	peak := s.Stop()
	own, _, err := status(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if own < hold {
		t.Fatalf("the child's own memory is %d, want at least %d", own, hold)
	}
	if peak < before+hold-(8<<20) {
		t.Errorf("tree memory %d with a child holding %d, %d before it started", peak, hold, before)
	}
	if c := children(os.Getpid()); len(c) != 1 || c[0] != cmd.Process.Pid {
		t.Errorf("children = %v, want [%d]", c, cmd.Process.Pid)
	}
}

func TestMemoryOfMissingProcess(t *testing.T) {
	if _, err := Memory(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

// TestPeakResident: this process's peak resident memory is at least what it holds now.
func TestPeakResident(t *testing.T) {
	held := make([]byte, 32<<20)
	for i := range held {
		held[i] = 1
	}
	anon, _, err := status(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if peak := PeakResident(); peak < anon || peak < 32<<20 {
		t.Errorf("peak %d, own pages now %d", peak, anon)
	}
	held[0] = 2
}
