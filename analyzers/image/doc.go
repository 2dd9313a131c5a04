// Package image opens container images from every source kensa accepts (docker save
// tarballs, OCI image layout archives and directories, and registries) and hands out each
// layer as a verified, bounded, uncompressed tar stream. It also decides, with Squash,
// which files of the layers are visible in the image's final filesystem.
//
// Everything an image contains is treated as hostile. Documents (indexes, manifests,
// configs) are read with a bound and checked before they are decoded: ambiguous documents
// (an index that is also a manifest, repeated keys, a media type that disagrees with the
// descriptor or the registry) are refused, counts are checked before anything is
// allocated for them, and index nesting is bounded with a visited set. Every blob is
// verified against the digest and size of its descriptor, and every layer is read to its
// end before it is accepted, so trailing bytes cannot hide. Nothing is ever extracted to
// disk: archives are indexed by their tar headers and read in place, layout directories
// are read only through regular files inside them, and registries are spoken to over HTTPS
// (plain HTTP only on the loopback network) without credentials ever appearing in errors.
//
// Image selection: a target may hold several images. Open picks, in order: the image
// named by the selector in the reference (docker-archive: "path:repo:tag"; oci-archive and
// oci-dir: "path:name" matching an org.opencontainers.image.ref.name or
// io.containerd.image.name annotation, or "path:sha256:…"); then the only image; then the
// image for Options.Platform; then, with no platform given, linux/amd64 (the same on every
// machine, so that a verdict does not depend on where kensa ran), noting the choice in
// Image.Notes. Anything else is an error that lists the images and asks for --platform or
// a selector.
package image
