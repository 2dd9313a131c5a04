#!/usr/bin/env bash
# kensa's performance benchmark on realistic container images (issue 10).
#
#   scripts/bench.sh corpus   build the corpus under build/bench (make bench-corpus)
#   scripts/bench.sh run      measure kensa against syft and the sha256sum floor (make bench)
#
# corpus: Debian packages fetched with 'apt-get download' (the only network access; the
# .debs are cached in build/bench/debs, so a second run downloads nothing), their
# dependency closure from 'apt-cache depends --recurse', each extracted with 'dpkg-deb -x'
# into one directory per layer with a real dpkg database (var/lib/dpkg/status, info/*.list,
# info/*.md5sums), then written by internal/benchcorpus as two images, each as a
# docker-archive tarball (uncompressed layers, like 'docker save') and an OCI layout (gzip
# layers):
#   corpus-1g: base, runtimes, servers               (about 1.3 GB of files)
#   corpus-2g: base, runtimes, servers, toolchains   (about 2.1 GB of files)
# build/bench/manifest.tsv lists every package, version and layer; build/bench/sizes.txt
# the sizes.
#
# run: each command under /usr/bin/time -v, one after the other, on each image: the floor
# (sha256sum of every extracted file, one process per CPU), syft scan, kensa sbom, kensa
# scan (docker-archive and OCI layout) and kensa accept; prints the machine, the versions,
# a table (wall, CPU = user+sys, peak memory of the process tree and of its largest
# process) and the goals of issue 10, met or not.
# Environment: BENCH_SIZES="1g 2g" (which images), KENSA=bin/kensa, BENCH_DIR=build/bench.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
BENCH=${BENCH_DIR:-build/bench}
KENSA=${KENSA:-bin/kensa}
SYFT=$BENCH/syft
SIZES=${BENCH_SIZES:-1g 2g}

# The top-level packages of each layer; the closure adds their dependencies.
LAYERS=(base runtimes servers toolchains)
PKGS_base="apt base-files base-passwd bash bsdutils coreutils dash debconf debianutils diffutils
  dpkg e2fsprogs findutils grep gzip hostname init-system-helpers libc-bin libc6
  liblocale-gettext-perl libpam-modules libpam-modules-bin libpam-runtime login mawk mount
  ncurses-base ncurses-bin passwd perl-base sed sensible-utils sysvinit-utils tar tzdata
  util-linux openssl ca-certificates curl git"
PKGS_runtimes="python3 python3-numpy python3-yaml python3-requests python3-cryptography
  python3-jinja2 perl openjdk-17-jre-headless"
PKGS_servers="nginx postgresql openssh-server"
PKGS_toolchains="gcc g++ golang-go openjdk-17-jdk-headless ruby php-cli"
IMAGE_1g="base runtimes servers"
IMAGE_2g="base runtimes servers toolchains"

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"; }

closure() {
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "$@" | grep '^[a-z0-9]' | sort -u
}

# pin reads package names and prints "name version arch file" with the candidate version
# and the file name 'apt-get download' gives it.
pin() {
	xargs apt-cache show --no-all-versions 2>/dev/null | awk '
		/^Package:/ {p=$2} /^Version:/ {v=$2} /^Architecture:/ {a=$2}
		/^$/ { if (p != "") { f=v; gsub(":", "%3a", f); print p, v, a, p "_" f "_" a ".deb" }; p="" }
		END { if (p != "") { f=v; gsub(":", "%3a", f); print p, v, a, p "_" f "_" a ".deb" } }'
}

# install_layer extracts the packages listed in $2 (pin format) into the directory $3 and
# appends their status entries to the database file $4, which becomes the layer's
# var/lib/dpkg/status: every layer carries the database of all packages up to it, as an
# 'apt-get install' layer of a Dockerfile would.
install_layer() {
	local layer=$1 list=$2 dir=$3 status=$4 ctl
	rm -rf "$dir"
	mkdir -p "$dir/var/lib/dpkg/info"
	ctl=$(mktemp -d "${TMPDIR:-/tmp}/benchcorpus-ctl.XXXXXX")
	while read -r name version arch file; do
		local deb=$BENCH/debs/$file id=$name
		dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed: delete it and run again to download it anew"
		rm -rf "${ctl:?}"/*
		dpkg-deb -e "$deb" "$ctl"
		grep -q '^Multi-Arch: same' "$ctl/control" && id=$name:$arch
		awk '/^[ \t]*$/ {next} {print} /^Package:/ {print "Status: install ok installed"}' "$ctl/control" >>"$status"
		echo >>"$status"
		[ -f "$ctl/md5sums" ] && cp "$ctl/md5sums" "$dir/var/lib/dpkg/info/$id.md5sums"
		[ -f "$ctl/conffiles" ] && cp "$ctl/conffiles" "$dir/var/lib/dpkg/info/$id.conffiles"
		dpkg-deb --fsys-tarfile "$deb" | tar -tf - | sed -e 's|^\./|/|' -e 's|/$||' -e 's|^$|/.|' \
			>"$dir/var/lib/dpkg/info/$id.list"
		printf '%s\t%s\t%s\t%s\n' "$layer" "$name" "$version" "$arch" >>"$BENCH/manifest.tsv.tmp"
	done <"$list"
	rm -rf "$ctl"
	cp "$status" "$dir/var/lib/dpkg/status"
	touch "$dir/var/lib/dpkg/available"
}

# files_bytes prints the number of regular files and their bytes under the given dirs.
files_bytes() { find "$@" -type f -printf '%s\n' | awk '{n++; s+=$1} END {printf "%d %d\n", n, s}'; }

corpus() {
	need apt-get "this runs on Debian or Ubuntu"
	need dpkg-deb "install dpkg"
	need go "install Go"
	mkdir -p "$BENCH/debs" "$BENCH/lists"
	local prev="" all="" layer
	: >"$BENCH/lists/closure.prev"
	for layer in "${LAYERS[@]}"; do
		local var=PKGS_$layer
		all="$all ${!var}"
		# shellcheck disable=SC2086 # word splitting of the package lists is meant
		closure $all >"$BENCH/lists/closure.$layer"
		comm -13 "$BENCH/lists/closure.prev" "$BENCH/lists/closure.$layer" | pin >"$BENCH/lists/$layer"
		cp "$BENCH/lists/closure.$layer" "$BENCH/lists/closure.prev"
		[ -s "$BENCH/lists/$layer" ] || die "layer $layer has no packages: is 'apt-get update' done?"
		say "layer $layer: $(wc -l <"$BENCH/lists/$layer") packages"
	done
	# Download what the cache lacks, pinned to the version the lists record.
	local missing=()
	while read -r name version arch file; do
		[ -s "$BENCH/debs/$file" ] || missing+=("$name=$version")
	done < <(cat "${LAYERS[@]/#/$BENCH/lists/}")
	if [ ${#missing[@]} -gt 0 ]; then
		say "downloading ${#missing[@]} packages into $BENCH/debs"
		(cd "$BENCH/debs" && apt-get download "${missing[@]}") ||
			die "apt-get download failed: run 'apt-get update' and try again"
	else
		say "every package is in $BENCH/debs already: nothing to download"
	fi
	while read -r name version arch file; do
		[ -s "$BENCH/debs/$file" ] || die "$BENCH/debs/$file is missing after the download"
	done < <(cat "${LAYERS[@]/#/$BENCH/lists/}")

	: >"$BENCH/manifest.tsv.tmp"
	: >"$BENCH/lists/status"
	for layer in "${LAYERS[@]}"; do
		say "extracting layer $layer into $BENCH/fs/$layer"
		install_layer "$layer" "$BENCH/lists/$layer" "$BENCH/fs/$layer" "$BENCH/lists/status"
	done
	{ printf 'layer\tpackage\tversion\tarchitecture\n'; cat "$BENCH/manifest.tsv.tmp"; } >"$BENCH/manifest.tsv"
	rm -f "$BENCH/manifest.tsv.tmp"

	go build -o "$BENCH/benchcorpus" ./internal/benchcorpus
	: >"$BENCH/sizes.txt"
	local size
	for size in 1g 2g; do
		local var=IMAGE_$size args=() dirs=()
		for layer in ${!var}; do
			args+=(-layer "$layer=$BENCH/fs/$layer")
			dirs+=("$BENCH/fs/$layer")
		done
		say "writing corpus-$size (${!var})"
		"$BENCH/benchcorpus" -work "$BENCH/work-$size" "${args[@]}" -tag "kensa.dev/bench:$size" \
			-docker "$BENCH/corpus-$size.tar" -oci "$BENCH/corpus-$size.oci"
		rmdir "$BENCH/work-$size" 2>/dev/null || true
		read -r nfiles fbytes < <(files_bytes "${dirs[@]}")
		local npkgs tarbytes ocibytes
		npkgs=$(awk -v l=" ${!var} " 'NR > 1 && index(l, " " $1 " ") {n++} END {print n}' "$BENCH/manifest.tsv")
		tarbytes=$(stat -c %s "$BENCH/corpus-$size.tar")
		ocibytes=$(du -sb "$BENCH/corpus-$size.oci" | cut -f1)
		printf 'corpus-%s: layers %s; %d packages; root filesystem %d files, %d bytes; docker-archive %d bytes (uncompressed layers); OCI layout %d bytes (gzip layers)\n' \
			"$size" "${!var}" "$npkgs" "$nfiles" "$fbytes" "$tarbytes" "$ocibytes" | tee -a "$BENCH/sizes.txt"
	done
	say "done: $BENCH/corpus-{1g,2g}.tar, $BENCH/corpus-{1g,2g}.oci, $BENCH/manifest.tsv, $BENCH/sizes.txt"
}

# measure NAME CMD...: runs CMD under /usr/bin/time -v and appends a result row
# "size<TAB>name<TAB>wall<TAB>cpu<TAB>rss_kib<TAB>exit<TAB>tree_kib" to $RESULTS (rss_kib:
# the largest single process, tree_kib: the whole process tree, both at their peak).
measure() {
	local label=$1
	shift
	local tv=$OUT/$SIZE-$label.time rc=0
	say "[$SIZE] $label: $*"
	local peak=$OUT/$SIZE-$label.peak
	/usr/bin/time -v -o "$tv" "$TREEPEAK" -o "$peak" -- "$@" >"$OUT/$SIZE-$label.stdout" 2>"$OUT/$SIZE-$label.stderr" || rc=$?
	grep -q 'Maximum resident set size' "$tv" || die "$label: /usr/bin/time wrote no report (see $tv)"
	[ -s "$peak" ] || die "$label: treepeak wrote no peak (see $OUT/$SIZE-$label.stderr)"
	awk -v size="$SIZE" -v name="$label" -v rc="$rc" -v tree="$(cat "$peak")" -F': ' '
		/Elapsed \(wall clock\)/ { n = split($NF, t, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + t[i] }
		/User time \(seconds\)/ { user = $NF }
		/System time \(seconds\)/ { sys = $NF }
		/Maximum resident set size/ { rss = $NF }
		END { printf "%s\t%s\t%.2f\t%.2f\t%d\t%d\t%d\n", size, name, wall, user + sys, rss, rc, tree }' "$tv" >>"$RESULTS"
	tail -n1 "$RESULTS" | awk -F'\t' '{printf "bench:   wall %ss, cpu %ss, peak memory %.0f MiB (process tree), %.0f MiB (largest process), exit %s\n", $3, $4, $7 / 1024, $5 / 1024, $6}' >&2
}

run() {
	[ -x "$KENSA" ] || die "$KENSA not found: run 'make build' first"
	[ -f /usr/bin/time ] || die "/usr/bin/time not found: apt-get install time"
	local s
	for s in $SIZES; do
		[ -f "$BENCH/corpus-$s.tar" ] && [ -d "$BENCH/corpus-$s.oci" ] ||
			die "$BENCH/corpus-$s.tar or .oci missing: run 'make bench-corpus' first"
	done
	if [ ! -x "$SYFT" ]; then
		say "building syft from the go.mod tool directive"
		go build -o "$SYFT" github.com/anchore/syft/cmd/syft
	fi
	# /usr/bin/time gives the largest single process's peak; treepeak that of the whole
	# process tree (kensa and its workers), which is what the memory goal is about.
	TREEPEAK=$BENCH/treepeak
	go build -o "$TREEPEAK" ./internal/benchcorpus/treepeak
	export SYFT_CHECK_FOR_APP_UPDATE=false
	OUT=$BENCH/run
	RESULTS=$OUT/results.tsv
	rm -rf "$OUT"
	mkdir -p "$OUT"
	: >"$RESULTS"
	# A copy, so that a 'make build' during the run does not change the binary measured.
	cp "$KENSA" "$OUT/kensa"
	KENSA=$OUT/kensa
	local jobs
	jobs=$(nproc)
	{
		echo "== machine"
		echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "cpu:     $(nproc) × $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
		echo "memory:  $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
		echo "kernel:  $(uname -r)"
		echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the start)"
		echo "== versions"
		echo "kensa:   $("$KENSA" version | tr '\n' ' ')"
		echo "tree:    $(git rev-parse HEAD 2>/dev/null || echo unknown) (the checkout the run was made in)"
		echo "syft:    $(go version -m "$SYFT" | awk '$2 == "github.com/anchore/syft" {print $3}') (built from go.mod)"
		echo "sha256sum: $(sha256sum --version | head -n1)"
		echo "go:      $(go version)"
		echo "== corpus"
		cat "$BENCH/sizes.txt"
	} | tee "$OUT/machine.txt"

	for SIZE in $SIZES; do
		local var=IMAGE_$SIZE dirs=() layer
		for layer in ${!var}; do dirs+=("$BENCH/fs/$layer"); done
		local tar=$BENCH/corpus-$SIZE.tar oci=$BENCH/corpus-$SIZE.oci
		# Warm the page cache so that every command reads from memory, as the first would not.
		cat "$tar" >/dev/null
		find "$oci" "${dirs[@]}" -type f -print0 | xargs -0 cat >/dev/null
		measure floor-sha256sum bash -c 'find "$@" -type f -print0 | xargs -0 -P '"$jobs"' -n 256 sha256sum >/dev/null' _ "${dirs[@]}"
		measure syft "$SYFT" scan "docker-archive:$tar" -q -o "cyclonedx-json=$OUT/$SIZE-syft.cdx.json"
		measure kensa-sbom "$KENSA" sbom "docker-archive:$tar" -q -o "cyclonedx-json=$OUT/$SIZE-kensa.cdx.json"
		measure kensa-scan "$KENSA" scan "docker-archive:$tar" -q --format json -o "$OUT/$SIZE-scan.json"
		measure kensa-scan-oci "$KENSA" scan "oci-dir:$oci" -q --format json -o "$OUT/$SIZE-scan-oci.json"
		measure kensa-accept "$KENSA" accept "docker-archive:$tar" -q --out "$OUT/$SIZE-accept"
	done
	echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
	report | tee "$OUT/report.txt"
	say "raw results in $RESULTS, outputs and /usr/bin/time reports in $OUT"
}

# report prints the table and the goals from $RESULTS.
report() {
	echo
	echo "| image | command | wall s | CPU s (user+sys) | peak memory MiB (process tree) | peak RSS MiB (largest process) | exit |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '{printf "| %s | %s | %.2f | %.2f | %.0f | %.0f | %d |\n", $1, $2, $3, $4, $7 / 1024, $5 / 1024, $6}' "$RESULTS"
	echo
	echo "| goal | measured (wall) | met | same ratio on CPU time |"
	echo "|---|---|---|---|"
	awk -F'\t' '
		{ wall[$1, $2] = $3; cpu[$1, $2] = $4; rss[$1, $2] = $7; rc[$1, $2] = $6; sizes[$1] = 1 }
		function goal(text, s1, c1, s2, c2, limit) {
			w = wall[s1, c1] / wall[s2, c2]
			printf "| %s | %.2f× | %s | %.2f× |\n", text, w, (w <= limit ? "yes" : "**no**"), cpu[s1, c1] / cpu[s2, c2]
		}
		END {
			for (s in sizes) order[++n] = s
			if (n == 2 && order[1] > order[2]) { t = order[1]; order[1] = order[2]; order[2] = t }
			for (i = 1; i <= n; i++) {
				s = order[i]
				goal(s ": kensa accept ≤ 1.3 × syft", s, "kensa-accept", s, "syft", 1.3)
				goal(s ": kensa sbom ≤ 1.0 × syft", s, "kensa-sbom", s, "syft", 1.0)
				goal(s ": kensa scan ≤ 2 × sha256sum floor (docker-archive)", s, "kensa-scan", s, "floor-sha256sum", 2)
				goal(s ": kensa scan ≤ 2 × sha256sum floor (OCI layout)", s, "kensa-scan-oci", s, "floor-sha256sum", 2)
			}
			if (("1g", "kensa-accept") in rss)
				printf "| 1g: kensa accept peak memory (process tree) < 1 GiB | %.0f MiB | %s | |\n", rss["1g", "kensa-accept"] / 1024, (rss["1g", "kensa-accept"] < 1048576 ? "yes" : "**no**")
			if (("1g", "syft") in wall && ("2g", "syft") in wall) {
				split("floor-sha256sum syft kensa-sbom kensa-scan kensa-scan-oci kensa-accept", cmds, " ")
				for (j = 1; j in cmds; j++)
					goal("2g ≤ 2.2 × 1g: " cmds[j], "2g", cmds[j], "1g", cmds[j], 2.2)
			}
			for (k in rc) if (rc[k] != 0 && rc[k] != 1) {
				split(k, p, SUBSEP)
				printf "| %s %s exited %d (could not decide): its .stderr is empty under -q, run it without -q to see why | | **no** | |\n", p[1], p[2], rc[k]
			}
		}' "$RESULTS"
}

case ${1:-run} in
corpus) corpus ;;
run) run ;;
report)
	RESULTS=$BENCH/run/results.tsv
	[ -f "$RESULTS" ] || die "no $RESULTS: run '$0 run' first"
	report
	;;
*) die "usage: $0 corpus|run|report" ;;
esac
