package builtin_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/registry"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/rules"
)

// builtinEngine compiles the built-in packs for the registry's analyzers, as kensa does.
func builtinEngine(b *testing.B) *rules.Engine {
	b.Helper()
	packs, err := rules.Load(rules.Sources{Builtin: true}, registry.Names())
	if err != nil {
		b.Fatal(err)
	}
	eng, err := rules.Compile(packs, registry.All())
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// patternCorpus lists up to limit bytes of this machine's executables and of the text
// under /usr/share (documentation, man pages, scripts, data): what the built-in packs'
// patterns meet in a real image, where text costs more than machine code.
func patternCorpus(b *testing.B, limit int64) ([]*analyzers.Artifact, int64) {
	b.Helper()
	var arts []*analyzers.Artifact
	var total int64
	for _, root := range []string{"/usr/bin", "/usr/share/doc", "/usr/share/perl", "/usr/share/man", "/usr/lib/python3"} {
		var paths []string
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				paths = append(paths, p)
			}
			return nil
		})
		sort.Strings(paths)
		budget := total + limit/5
		for _, p := range paths {
			fi, err := os.Stat(p)
			if err != nil || fi.Size() == 0 || total+fi.Size() > budget {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			det := sniff.Detect(data[:min(len(data), sniff.HeadSize)], filepath.Base(p), int64(len(data)))
			arts = append(arts, &analyzers.Artifact{Path: p, Format: det.Format, Interpreter: det.Interpreter,
				Size: int64(len(data)), Content: bytesReaderAt(data)})
			total += int64(len(data))
		}
	}
	return arts, total
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// BenchmarkPatterns runs the built-in packs' pattern matcher (one pass of every pattern
// of every rule) over real executables and text, on every core, as the walk does. It
// reports the files whose scan stopped at its work bound (files/op stopped): ordinary
// files that cost as much to verify as hostile ones.
func BenchmarkPatterns(b *testing.B) {
	m := builtinEngine(b).MatchAnalyzer()
	arts, total := patternCorpus(b, 200<<20)
	// The rate counts the bytes of the files the matcher reads: not those of compressed
	// files, whose members a walk would hand it instead.
	var wanted []*analyzers.Artifact
	var matched int64
	for _, a := range arts {
		if m.Wants(a) {
			wanted = append(wanted, a)
			matched += a.Size
		}
	}
	b.Logf("%d files, %d bytes; the matcher wants %d files, %d bytes", len(arts), total, len(wanted), matched)
	cores := runtime.GOMAXPROCS(0)
	b.SetBytes(matched)
	var stopped atomic.Int64
	for b.Loop() {
		stopped.Store(0)
		next := make(chan *analyzers.Artifact)
		var wg sync.WaitGroup
		for range cores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for a := range next {
					if _, err := m.Analyze(context.Background(), a); err != nil {
						stopped.Add(1)
					}
				}
			}()
		}
		for _, a := range wanted {
			next <- a
		}
		close(next)
		wg.Wait()
	}
	b.ReportMetric(float64(matched)/1e6/(b.Elapsed().Seconds()/float64(b.N))/float64(cores), "MB/s/core")
	b.ReportMetric(float64(stopped.Load()), "stopped/op")
}

// BenchmarkCompile loads and compiles the built-in packs: what every scan pays before
// it reads a byte, once in kensa and once in its walk worker.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		builtinEngine(b)
	}
}
