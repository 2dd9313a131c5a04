// Package proctree measures the memory of a process together with every process it
// started, directly or not: kensa and its analysis workers, as one figure.
//
// A process's memory is counted as its anonymous and shared-memory resident pages
// (RssAnon and RssShmem of /proc/PID/status); the pages of files it maps (its binary, the
// system libraries) are counted once, for the root, since kensa's workers run the same
// binary and share them. Linux only; elsewhere Memory reports an error.
package proctree

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxProcs bounds how many processes one measure visits.
const maxProcs = 4096

// Memory is the resident memory of pid and of every process below it, in bytes.
func Memory(pid int) (int64, error) {
	anon, file, err := status(pid)
	if err != nil {
		return 0, err
	}
	total := anon + file
	seen := map[int]bool{pid: true}
	queue := children(pid)
	for len(queue) > 0 && len(seen) < maxProcs {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		a, _, err := status(p)
		if err != nil {
			continue // it ended between the listing and the reading
		}
		total += a
		queue = append(queue, children(p)...)
	}
	return total, nil
}

// status reads the anonymous (with shared memory) and file-backed resident bytes of pid.
func status(pid int) (anon, file int64, err error) {
	found := false
	err = statusFields(pid, func(k string, v int64) {
		switch k {
		case "RssAnon", "RssShmem":
			anon += v
			found = true
		case "RssFile":
			file = v
		}
	})
	if err != nil {
		return 0, 0, err
	}
	if !found {
		return 0, 0, errors.New("proctree: /proc/" + strconv.Itoa(pid) + "/status has no RssAnon (a kernel thread, or not Linux)")
	}
	return anon, file, nil
}

// statusFields calls field with each "Name: N kB" line of /proc/PID/status, in bytes.
func statusFields(pid int, field func(name string, bytes int64)) error {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if k, v, ok := bytes.Cut(l, []byte(":")); ok && bytes.HasSuffix(v, []byte(" kB")) {
			field(string(k), kB(v))
		}
	}
	return nil
}

// PeakResident is the peak resident memory of this process (VmHWM), in bytes. getrusage
// would not do: for a process started with vfork, as Go starts programs, it counts the
// memory of the process that started it too.
func PeakResident() int64 {
	var peak int64
	statusFields(os.Getpid(), func(k string, v int64) {
		if k == "VmHWM" {
			peak = v
		}
	})
	return peak
}

func kB(v []byte) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
	return n << 10
}

// children lists the processes pid started, from every one of its threads.
func children(pid int) []int {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// Sampler measures a process tree's memory at an interval and keeps the peak.
type Sampler struct {
	peak atomic.Int64
	stop chan struct{}
	done sync.WaitGroup
}

// Sample measures the tree of pid every interval until Stop.
func Sample(pid int, every time.Duration) *Sampler {
	s := &Sampler{stop: make(chan struct{})}
	s.measure(pid)
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.measure(pid)
			}
		}
	}()
	return s
}

func (s *Sampler) measure(pid int) {
	if n, err := Memory(pid); err == nil && n > s.peak.Load() {
		s.peak.Store(n)
	}
}

// Peak is the largest measure so far, in bytes.
func (s *Sampler) Peak() int64 { return s.peak.Load() }

// Stop ends the sampling and returns the peak.
func (s *Sampler) Stop() int64 {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.done.Wait()
	return s.Peak()
}
