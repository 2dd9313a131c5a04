// Command mkimage writes kensa's container image as an OCI image layout, without a
// container engine.
//
// The image is base-less, in the manner of distroless/static: a root filesystem holding
// /usr/local/bin/kensa, /etc/passwd and /etc/group with the user nonroot (65532), /tmp
// (mode 1777), /work (the working directory, owned by nonroot) and the build machine's CA
// certificates, and a config that runs kensa as 65532:65532. Two layers: the base
// filesystem, then the kensa binary. Every timestamp is SOURCE_DATE_EPOCH (or the Unix
// epoch), every owner numeric and every archive sorted, so that two builds from the same
// binary and certificates give the same bytes and the same manifest digest.
//
// The binary must be a statically linked linux/amd64 ELF executable (CGO_ENABLED=0): a
// dynamically linked one would not start in an image that has no C library.
//
// Usage, from the module root:
//
//	CGO_ENABLED=0 go build -trimpath -o bin/kensa ./cmd/kensa
//	go run ./internal/mkimage -out build/image -bin bin/kensa -tag kensa.dev/kensa:1.2.0 -revision "$(git rev-parse HEAD)"
//	crane push build/image registry.example/kensa:1.2.0
//
// The labels org.opencontainers.image.version and .revision come from -version and
// -revision or, when not given, from the binary's own build information (the -X ldflags
// that set kensa.dev/kensa/internal/version, or the VCS revision Go stamped; a -trimpath
// build records neither ldflags nor, outside a repository, a revision) and, for the
// version, from the tag. An unknown revision leaves the label out.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line, builds the image and returns the exit code: 0 written,
// 1 refused or failed, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.out, "out", "", "directory to write the OCI image layout to (replaced if it already holds one)")
	fs.StringVar(&o.bin, "bin", "", "the kensa binary: a static linux/amd64 ELF (CGO_ENABLED=0 go build -trimpath ./cmd/kensa)")
	fs.StringVar(&o.tag, "tag", "", "image reference recorded in the layout's index, e.g. kensa.dev/kensa:1.2.0")
	fs.StringVar(&o.version, "version", "", "org.opencontainers.image.version (default: from the binary's build info, else the tag)")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision (default: from the binary's build info)")
	fs.StringVar(&o.source, "source", defaultSource, "org.opencontainers.image.source")
	fs.StringVar(&o.licenses, "licenses", defaultLicenses, "org.opencontainers.image.licenses (an SPDX expression)")
	fs.StringVar(&o.caCerts, "ca-certs", defaultCACerts, "CA certificate bundle to copy into the image; empty for none (skipped when absent)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./internal/mkimage -out DIR -bin KENSA [-tag REF]\n\n"+
			"Writes kensa's linux/amd64 container image as an OCI image layout in DIR.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.out == "" || o.bin == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "mkimage: -out and -bin are required, and nothing else on the command line")
		fs.Usage()
		return 2
	}
	fs.Visit(func(f *flag.Flag) { o.caCertsSet = o.caCertsSet || f.Name == "ca-certs" })
	created, err := sourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintf(stderr, "mkimage: %v\n", err)
		return 2
	}
	o.created = created

	start := time.Now()
	res, err := build(o)
	if err != nil {
		fmt.Fprintf(stderr, "mkimage: %v\n", err)
		return 1
	}
	for _, n := range res.notes {
		fmt.Fprintf(stderr, "mkimage: warning: %s\n", n)
	}
	fmt.Fprintf(stdout, "wrote %s: linux/amd64 image %s (%d layers, %s compressed), kensa %s, in %s\n",
		o.out, res.digest, res.layers, humanBytes(res.size), res.version, time.Since(start).Round(time.Millisecond))
	return 0
}

// sourceDateEpoch returns the time SOURCE_DATE_EPOCH names, or the Unix epoch when it is
// empty.
func sourceDateEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 253402300799 { // up to 9999-12-31
		return time.Time{}, errors.New("SOURCE_DATE_EPOCH must be a number of seconds since 1970 (git log -1 --format=%ct)")
	}
	return time.Unix(n, 0).UTC(), nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
