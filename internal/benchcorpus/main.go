// Command benchcorpus writes the container images of kensa's performance benchmark from
// root filesystem directories, one directory per layer, without a container engine.
//
// scripts/bench.sh extracts Debian packages (dpkg-deb -x) into one directory per layer
// (base system, language runtimes, servers, toolchains), each with the dpkg database of
// everything installed up to that layer, then calls benchcorpus to write the image twice:
//
//   - as a docker-archive tarball in the layout of 'docker save': manifest.json, the
//     config as <hex>.json and each layer uncompressed as <hex>/layer.tar;
//   - as an OCI image layout (with go-containerregistry), each layer gzip-compressed, as a
//     registry would serve it.
//
// Both carry the same config and therefore the same image ID. Every layer tar is written
// once into -work and shared by the images that use it. Entries are sorted; owners,
// modes and modification times are those of the files; hard links within a layer stay
// hard links.
//
// Usage, from the module root:
//
//	go run ./internal/benchcorpus -work build/bench/layers \
//	  -layer base=build/bench/fs/base -layer runtimes=build/bench/fs/runtimes \
//	  -docker build/bench/corpus-1g.tar -oci build/bench/corpus-1g.oci -tag kensa.dev/bench:1g
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// layerFlag collects the repeated -layer NAME=DIR arguments in order.
type layerFlag []layerSpec

func (l *layerFlag) String() string {
	var s []string
	for _, x := range *l {
		s = append(s, x.name+"="+x.dir)
	}
	return strings.Join(s, ",")
}

func (l *layerFlag) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("want NAME=DIR (a plain name, then the layer's root directory), got %q", v)
	}
	*l = append(*l, layerSpec{name: name, dir: dir})
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchcorpus:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchcorpus", flag.ContinueOnError)
	var o options
	fs.Var(&o.layers, "layer", "NAME=DIR: a layer from this root directory, bottom first (repeatable)")
	fs.StringVar(&o.work, "work", "", "directory for the layer tars (reused when up to date)")
	fs.StringVar(&o.docker, "docker", "", "write the image here as a docker-archive tarball")
	fs.StringVar(&o.oci, "oci", "", "write the image here as an OCI image layout directory")
	fs.StringVar(&o.tag, "tag", "kensa.dev/bench:latest", "image reference recorded in both outputs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q: every input is a -layer flag", fs.Args())
	}
	if len(o.layers) == 0 || o.work == "" || (o.docker == "" && o.oci == "") {
		return errors.New("need -work, at least one -layer NAME=DIR and -docker FILE or -oci DIR")
	}
	return build(o)
}
