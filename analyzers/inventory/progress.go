package inventory

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"kensa.dev/kensa/internal/limits"
)

// progress counts what the walk has read, for the progress line.
type progress struct {
	bytes atomic.Int64
	total atomic.Int64
	files atomic.Int64
}

func (p *progress) addTotal(n int64) { p.total.Add(n) }

// reader counts the bytes read from r.
func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.bytes.Add(int64(n))
	return n, err
}

// start writes a progress line to out a few times a second until the returned function
// is called, which erases the line. A nil out writes nothing.
func (p *progress) start(out io.Writer) func() {
	if out == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		fmt.Fprint(out, "\r\x1b[K"+p.line())
		for {
			select {
			case <-done:
				fmt.Fprint(out, "\r\x1b[K")
				return
			case <-t.C:
				fmt.Fprint(out, "\r\x1b[K"+p.line())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (p *progress) line() string {
	read, total, files := p.bytes.Load(), p.total.Load(), p.files.Load()
	if total > 0 && read <= total {
		return fmt.Sprintf("kensa: read %s of %s (%d%%), %d files", limits.HumanSize(read), limits.HumanSize(total), read*100/total, files)
	}
	return fmt.Sprintf("kensa: read %s, %d files", limits.HumanSize(read), files)
}

// humanBytes writes a size for people: 512 B, 3.4 MiB.
