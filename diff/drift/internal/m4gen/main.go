// Command m4gen makes the table of upstream m4 macro files that kensa drift knows
// (m4serials.tsv) and the store of their contents (m4upstream.zst), from the m4 files the
// installed Debian packages ship. Run it through `go generate ./diff/drift/` on a Debian
// machine with the packages installed:
//
//	apt-get install autoconf automake libtool gettext autopoint pkgconf autoconf-archive
//
// It reads the package file lists with dpkg-query and, for autopoint, the m4 files of every
// gettext release held in /usr/share/gettext/archive.dir.tar.xz.
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"kensa.dev/kensa/diff/drift/internal/m4serial"
)

type row struct {
	name, serial, sum, origin string
	lines                     int
}

func main() {
	table := flag.String("table", "m4serials.tsv", "table to write")
	store := flag.String("store", "m4upstream.zst", "content store to write")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		log.Fatal("usage: m4gen [-table FILE] [-store FILE] PACKAGE...")
	}
	var rows []row
	contents := map[string][]byte{}
	add := func(name string, b []byte, origin string) {
		s, ok := m4serial.Find(b)
		if !ok {
			return
		}
		h := sha256.Sum256(b)
		sum := hex.EncodeToString(h[:])
		contents[sum] = b
		rows = append(rows, row{name: name, serial: s.Number, sum: sum, origin: origin, lines: bytes.Count(b, []byte("\n"))})
	}
	var header []string
	for _, p := range pkgs {
		v, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", p).Output()
		if err != nil {
			log.Fatalf("%s: not installed: %v", p, err)
		}
		header = append(header, p+" "+string(v))
		list, err := exec.Command("dpkg-query", "-L", p).Output()
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range strings.Split(string(list), "\n") {
			switch {
			case strings.HasSuffix(f, ".m4"):
				fi, err := os.Lstat(f)
				if err != nil || !fi.Mode().IsRegular() {
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					log.Fatal(err)
				}
				add(path.Base(f), b, p+" "+string(v)+" "+f)
			case strings.HasSuffix(f, "/archive.dir.tar.xz"):
				readArchive(f, p+" "+string(v), add)
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.serial != b.serial {
			return a.serial < b.serial
		}
		if a.sum != b.sum {
			return a.sum < b.sum
		}
		// Prefer a file installed on the system to a copy in autopoint's archive.
		if ia, ib := strings.Contains(a.origin, "archive.dir"), strings.Contains(b.origin, "archive.dir"); ia != ib {
			return ib
		}
		return a.origin < b.origin
	})
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Upstream m4 macro files kensa drift knows, made by diff/drift/internal/m4gen from:\n")
	for _, h := range header {
		fmt.Fprintf(&out, "#   %s\n", h)
	}
	fmt.Fprintf(&out, "# name\tserial\tsha256\tlines\torigin\n")
	seen := map[string]bool{}
	for _, r := range rows {
		k := r.name + "\t" + r.serial + "\t" + r.sum
		if seen[k] {
			continue
		}
		seen[k] = true
		fmt.Fprintf(&out, "%s\t%s\t%s\t%d\t%s\n", r.name, r.serial, r.sum, r.lines, r.origin)
	}
	if err := os.WriteFile(*table, out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	sums := make([]string, 0, len(contents))
	for s := range contents {
		sums = append(sums, s)
	}
	sort.Strings(sums)
	var raw bytes.Buffer
	for _, s := range sums {
		fmt.Fprintf(&raw, "%s %d\n", s, len(contents[s]))
		raw.Write(contents[s])
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(8<<20))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*store, enc.EncodeAll(raw.Bytes(), nil), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d rows, %d distinct contents, %d bytes", len(seen), len(sums), raw.Len())
}

// readArchive adds the m4/*.m4 files of every gettext release in autopoint's archive.
func readArchive(file, pkg string, add func(string, []byte, string)) {
	f, err := os.Open(file)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	xr, err := xz.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	tr := tar.NewReader(xr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			log.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".m4") || path.Base(path.Dir(h.Name)) != "m4" {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			log.Fatal(err)
		}
		add(path.Base(h.Name), b, pkg+" "+path.Base(file)+":"+h.Name)
	}
}
