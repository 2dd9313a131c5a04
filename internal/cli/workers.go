package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"kensa.dev/kensa/analyzers/inventory"
	"kensa.dev/kensa/analyzers/worker"
	"kensa.dev/kensa/attest/authenticode"
	"kensa.dev/kensa/attest/checksums"
	"kensa.dev/kensa/attest/sigstore"
	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/proctree"
	"kensa.dev/kensa/internal/version"
	"kensa.dev/kensa/rules"
	"kensa.dev/kensa/sbom"
)

// pools are the worker pools a command started; Run stops them when the command ends.
var pools struct {
	sync.Mutex
	list []*runPool
	// tree measures kensa and its workers together while a pool runs.
	tree *proctree.Sampler
}

type runPool struct {
	*worker.Pool
	walker *worker.Walker
	quiet  bool
	stderr io.Writer
}

// startWorkers starts the pool that parses documents of this run in worker processes, and
// the walker that takes deliveries apart in walk workers (which run the analyzers in
// analysis workers of their own).
func startWorkers(opts inventory.Options, quiet bool, stderr io.Writer) (*worker.Pool, *worker.Walker, error) {
	lim := opts.Limits
	cfg := worker.Config{Size: opts.Jobs, Limits: &lim}
	pool, err := worker.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (run with --isolation none to parse in kensa's own process)", err)
	}
	walker, err := worker.NewWalker(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (run with --isolation none to parse in kensa's own process)", err)
	}
	pools.Lock()
	pools.list = append(pools.list, &runPool{Pool: pool, walker: walker, quiet: quiet, stderr: stderr})
	if pools.tree == nil {
		// Every 50 ms: one measure reads /proc for every thread of every process of the
		// tree, which at 10 ms took more system time than the analysis of small files.
		pools.tree = proctree.Sample(os.Getpid(), 50*time.Millisecond)
	}
	pools.Unlock()
	return pool, walker, nil
}

// stopWorkers stops the pools of the command that ended and says what their workers did
// when one was stopped or died, or when asked to (not --quiet).
func stopWorkers() {
	pools.Lock()
	list, tree := pools.list, pools.tree
	pools.list, pools.tree = nil, nil
	pools.Unlock()
	var treePeak int64
	if tree != nil {
		treePeak = tree.Stop()
	}
	for _, p := range list {
		p.Close()
		st := p.Stats()
		inner, walks := p.walker.Stats()
		st.Started += inner.Started
		st.Stopped += inner.Stopped
		st.Died += inner.Died
		st.PeakMemory = max(st.PeakMemory, inner.PeakMemory)
		if st.Stopped+st.Died+walks.Stopped+walks.Died == 0 || p.quiet {
			continue
		}
		fmt.Fprintf(p.stderr, "walk workers: %d started, %d stopped at a limit, %d died; peak memory of a walk worker %s (own pages)\n",
			walks.Started, walks.Stopped, walks.Died, limits.HumanSize(walks.PeakMemory))
		fmt.Fprintf(p.stderr, "analysis workers: %d started, %d stopped at a limit, %d died; peak memory of a worker %s (own pages), of kensa itself %s (resident), of kensa and its workers together %s\n",
			st.Started, st.Stopped, st.Died, limits.HumanSize(st.PeakMemory), limits.HumanSize(proctree.PeakResident()), limits.HumanSize(treePeak))
	}
}

func init() {
	// A vendor's SBOM goes through decoders not written for hostile input.
	worker.RegisterCheck("sbom", func(_ context.Context, r io.ReaderAt, size int64, lim *limits.Limits) error {
		_, err := sbom.ReadDeclared(io.NewSectionReader(r, 0, size), lim.FileSize)
		return err
	})
	// Signature documents: protobuf JSON, X.509 certificates, DSSE envelopes and in-toto
	// statements, through sigstore-go's decoders.
	for _, kind := range []string{sigstore.KindBundle, sigstore.KindJSONL, sigstore.KindSignature} {
		worker.RegisterCheck("sigstore-"+kind, func(_ context.Context, r io.ReaderAt, size int64, _ *limits.Limits) error {
			b, err := io.ReadAll(io.NewSectionReader(r, 0, min(size, sigstore.MaxBundleSize+1)))
			if err != nil {
				return err
			}
			return sigstore.ParseAttachment(kind, b)
		})
	}
	// What a registry attaches to an image: Sigstore bundles, and cosign's older
	// simple-signing and DSSE layers with their certificate and log-entry annotations.
	worker.RegisterCheck("sigstore-image-layer", func(_ context.Context, r io.ReaderAt, size int64, _ *limits.Limits) error {
		b, err := io.ReadAll(io.NewSectionReader(r, 0, min(size, 2*sigstore.MaxBundleSize+1<<20)))
		if err != nil {
			return err
		}
		var l sigstore.ImageLayer
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		return sigstore.ParseImageLayer(l)
	})
	// Checksum manifests and their OpenPGP signatures (clearsigned or detached).
	worker.RegisterCheck("checksum-document", func(_ context.Context, r io.ReaderAt, size int64, _ *limits.Limits) error {
		b, err := io.ReadAll(io.NewSectionReader(r, 0, min(size, checksums.MaxManifestSize+1)))
		if err != nil {
			return err
		}
		return checksums.ParseDocument(b)
	})
	// The rules' pattern matcher runs in the walk worker, beside the walk.
	worker.RegisterAnalyzer(rules.MatchesName, rules.NewMatchAnalyzer)
	// The SBOM's catalogers (package databases, manifests, binaries' build information)
	// run in the walk worker too, over the bytes it kept; the license scanner they share is
	// built while the walk runs.
	worker.RegisterCataloger(func(ctx context.Context) func(context.Context, *inventory.Inventory) ([]byte, error) {
		prep := sbom.Prepare(ctx)
		v, _ := version.Get()
		return func(ctx context.Context, inv *inventory.Inventory) ([]byte, error) {
			return sbom.CatalogJSON(ctx, inv, sbom.Options{ToolVersion: v, Prepared: prep})
		}
	})
	// A PE's Authenticode signature: PKCS#7 and X.509 in ASN.1, and the PE's layout.
	worker.RegisterCheck("authenticode", func(_ context.Context, r io.ReaderAt, size int64, _ *limits.Limits) error {
		_, err := authenticode.Verify(r, size, authenticode.Options{})
		return err
	})
}

// catalogWhereWalked asks the walk worker, when there is one, to catalog the delivery
// where it walked it (inventory.Options.Catalog), and returns what cataloging in this
// process needs otherwise: the license scanner, built while the walk runs.
func catalogWhereWalked(ctx context.Context, opts *inventory.Options) *sbom.Prepared {
	opts.Catalog = true
	if opts.Walker != nil {
		return nil
	}
	return sbom.Prepare(ctx)
}

// screen has an analysis worker parse a document of the delivery the way kensa is about
// to, with check (RegisterCheck), before kensa parses it itself: a signature document or
// a signed PE built to exhaust memory or hang stops a worker, and the document's check
// is an error instead of a verdict. Without a pool (--isolation none) it does nothing.
func screen(ctx context.Context, pool *worker.Pool, check, path string, r io.ReaderAt, size int64) error {
	if pool == nil {
		return nil
	}
	if err := pool.SurvivesReader(ctx, check, path, r, size); err != nil {
		return fmt.Errorf("%s was not read: %w", path, err)
	}
	return nil
}

// readDeclared reads a vendor's SBOM, once a worker process has survived reading it
// (unless --isolation none): an SBOM built to exhaust memory stops a worker, not kensa.
func readDeclared(ctx context.Context, in *inspectFlags, path string) (*sbom.Declared, error) {
	lim := limits.Default()
	for _, l := range in.limits {
		if err := lim.Set(l); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if in.isolation != "none" {
		pool, err := worker.New(worker.Config{Size: 1, Limits: &lim})
		if err != nil {
			return nil, fmt.Errorf("%w (run with --isolation none to parse in kensa's own process)", err)
		}
		err = pool.Survives(ctx, "sbom", path)
		pool.Close()
		if err != nil {
			return nil, err
		}
	}
	return sbom.ReadDeclaredFile(path, lim.FileSize)
}
