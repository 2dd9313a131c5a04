package pattern

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// benchCorpus concatenates the largest-first regular files of /usr/bin up to limit bytes
// into a file and returns its path and a sample of its content for pattern generation.
func benchCorpus(b *testing.B, limit int64) (string, []byte) {
	b.Helper()
	ents, err := os.ReadDir("/usr/bin")
	if err != nil {
		b.Fatal(err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	path := filepath.Join(b.TempDir(), "corpus")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var total int64
	var sample []byte
	for _, e := range ents {
		if total >= limit || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/usr/bin", e.Name()))
		if err != nil || len(data) == 0 {
			continue
		}
		data = data[:min(int64(len(data)), limit-total)]
		if _, err := out.Write(data); err != nil {
			b.Fatal(err)
		}
		total += int64(len(data))
		if len(sample) < 8<<20 {
			sample = append(sample, data[:min(len(data), 256<<10)]...)
		}
	}
	return path, sample
}

// benchPatterns draws n patterns of mixed kinds from sample, as the differential test
// does, keeping those both engines accept.
func benchPatterns(b *testing.B, sample []byte, n int) ([]Def, string) {
	genRealistic = os.Getenv("KENSA_PATTERN_BENCH_SLOW") == ""
	defer func() { genRealistic = false }()
	r := rand.New(rand.NewPCG(7, 8))
	var defs []Def
	var rules strings.Builder
	for len(defs) < n {
		var s []byte
		for {
			l := 6 + r.IntN(16)
			off := r.IntN(len(sample) - l)
			s = sample[off : off+l]
			var seen [256]bool
			distinct := 0
			for _, c := range s {
				if !seen[c] {
					seen[c] = true
					distinct++
				}
			}
			if distinct*3 >= len(s)*2 {
				break
			}
		}
		var g genPattern
		switch len(defs) % 3 {
		case 0:
			g = genLiteral(r, s)
		case 1:
			g = genHex(r, s)
		default:
			g = genRegex(r, s)
		}
		g.def.ID = fmt.Sprintf("r%d", len(defs))
		if _, err := Compile([]Def{g.def}); err != nil {
			continue
		}
		fmt.Fprintf(&rules, "rule %s { strings: $s = %s condition: $s }\n", g.def.ID, g.yara)
		defs = append(defs, g.def)
	}
	return defs, rules.String()
}

func BenchmarkScan(b *testing.B) {
	yaraPath := requireYara(b)
	mb := int64(envInt("KENSA_PATTERN_BENCH_MB", 100))
	corpus, sample := benchCorpus(b, mb<<20)
	defs, rules := benchPatterns(b, sample, 500)
	rulesPath := filepath.Join(b.TempDir(), "rules.yar")
	if err := os.WriteFile(rulesPath, []byte(rules), 0o644); err != nil {
		b.Fatal(err)
	}
	set, err := Compile(defs)
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(corpus)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d patterns, %d atoms, %d automaton states × %d classes, corpus %d bytes",
		len(defs), len(set.atomSubs), set.ac.states(), set.ac.nclass, st.Size())
	b.Run("kensa", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			f, err := os.Open(corpus)
			if err != nil {
				b.Fatal(err)
			}
			m, err := set.Scan(f, st.Size(), ScanOptions{})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			matched := 0
			for _, p := range m.Patterns {
				if p.Count > 0 {
					matched++
				}
			}
			b.ReportMetric(float64(matched), "patterns-matched")
		}
	})
	b.Run("yara", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			out, err := exec.Command(yaraPath, "-w", "-c", rulesPath, corpus).CombinedOutput()
			if err != nil {
				b.Fatalf("yara: %v: %s", err, out)
			}
			var n int
			fmt.Sscan(string(out), &n)
			b.ReportMetric(float64(n), "patterns-matched")
		}
	})
}

// BenchmarkAutomaton compares the automaton alone with one bytes.Index pass per atom.
func BenchmarkAutomaton(b *testing.B) {
	_, sample := benchCorpus(b, 16<<20)
	defs, _ := benchPatterns(b, sample, 500)
	set, err := Compile(defs)
	if err != nil {
		b.Fatal(err)
	}
	atoms := atomList(defs)
	b.Logf("%d atoms, %d states", len(atoms), set.ac.states())
	var acHits, idxHits int
	b.Run("automaton", func(b *testing.B) {
		b.SetBytes(int64(len(sample)))
		var pending []uint64
		for b.Loop() {
			acHits = 0
			set.ac.next(0, sample, &pending, func(i int, st uint32) bool {
				acHits += len(set.ac.outputs(st))
				return true
			})
		}
	})
	b.Run("bytes.Index", func(b *testing.B) {
		b.SetBytes(int64(len(sample)))
		for b.Loop() {
			idxHits = 0
			for _, a := range atoms {
				for d := sample; ; {
					i := bytes.Index(d, a)
					if i < 0 {
						break
					}
					idxHits++
					d = d[i+1:]
				}
			}
		}
	})
	if acHits != idxHits {
		b.Fatalf("automaton found %d atom occurrences, bytes.Index %d", acHits, idxHits)
	}
}

// atomList returns the distinct atoms of defs.
func atomList(defs []Def) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, d := range defs {
		cs, err := compileDef(0, d)
		if err != nil {
			continue
		}
		for _, c := range cs {
			for _, at := range c.atoms {
				if !seen[string(at)] {
					seen[string(at)] = true
					out = append(out, at)
				}
			}
		}
	}
	return out
}
