package worker

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/analyzers"
)

// transferSize is the size of a worker's transfer area. A file that fits is copied into
// the area, which the worker maps once for its lifetime and reads as memory; a larger
// one travels as a descriptor of its own (the file, or a memory file holding a copy).
//
// A walk hands tens of thousands of small files to the workers. Making a memory file
// for each, writing it, passing it and reading it back in the small pieces the parsers
// ask for took more system calls than the analysis of the file took work: on a
// virtual machine where each call costs microseconds, a quarter of a scan's CPU time.
// With the area, a file costs one write in the parent and none in the worker.
const transferSize = 16 << 20

// transferArea is the descriptor a worker finds its transfer area on.
const transferArea = 5

// newTransferArea makes a transfer area: a memory file that neither side can shrink or
// grow (a worker that shrank it would make the parent's writes fail), the parent's
// descriptor to write it and a read-only one for the worker.
func newTransferArea() (rw, ro *os.File, err error) {
	fd, err := unix.MemfdCreate("kensa-transfer", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, nil, fmt.Errorf("making the transfer area: %w", err)
	}
	rw = os.NewFile(uintptr(fd), "kensa-transfer")
	if err := rw.Truncate(transferSize); err != nil {
		rw.Close()
		return nil, nil, fmt.Errorf("sizing the transfer area: %w", err)
	}
	if _, err := unix.FcntlInt(rw.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		rw.Close()
		return nil, nil, fmt.Errorf("sealing the transfer area: %w", err)
	}
	// Opening the memory file again through /proc gives a descriptor that cannot write.
	if ro, err = os.Open("/proc/self/fd/" + strconv.Itoa(int(rw.Fd()))); err != nil {
		rw.Close()
		return nil, nil, fmt.Errorf("opening the transfer area read-only: %w", err)
	}
	return rw, ro, nil
}

// copyBuffers stage the bytes copied into a transfer area.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// load copies a's content (a.Size ≤ transferSize) into the worker's transfer area and
// returns how many bytes there were: fewer than a.Size when the content ends early.
func (pr *proc) load(a *analyzers.Artifact) (int64, error) {
	n := a.Size
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	var off int64
	for off < n {
		k, err := a.Content.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		if k > 0 {
			if _, werr := pr.area.WriteAt(buf[:k], off); werr != nil {
				return off, fmt.Errorf("copying the file into the analysis worker's transfer area: %w", werr)
			}
			off += int64(k)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return off, err
		}
	}
	return off, nil
}

// mappedArea is the worker's mapping of its transfer area.
var mappedArea []byte

// mapTransferArea maps the worker's transfer area read-only, for the worker's lifetime.
func mapTransferArea() ([]byte, error) {
	f := os.NewFile(transferArea, "transfer")
	if f == nil {
		return nil, errors.New("the analysis worker was started without its transfer area")
	}
	defer f.Close() // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("the transfer area: %w", err)
	}
	if st.Size() != transferSize {
		return nil, fmt.Errorf("the transfer area holds %d bytes, want %d", st.Size(), transferSize)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, transferSize, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the transfer area: %w", err)
	}
	return b, nil
}
