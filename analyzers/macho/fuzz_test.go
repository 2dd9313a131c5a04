package macho

import (
	"bytes"
	"context"
	"testing"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
	"kensa.dev/kensa/internal/limits"
)

func FuzzAnalyze(f *testing.F) {
	dylib := signedDylib(f, testEntitlements)
	arm := readFixture(f, "hello-arm64")
	f.Add(dylib)
	f.Add(arm[:64<<10])
	f.Add(fat(f, false, dylib, dylib[:len(dylib)-100]))
	f.Add(fat(f, true, dylib))
	lim := limits.Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, format := range []sniff.Format{sniff.MachO, sniff.MachOFat} {
			a := &analyzers.Artifact{Path: "f", Format: format, Size: int64(len(b)), Content: bytes.NewReader(b), Limits: &lim}
			facts, err := New().Analyze(context.Background(), a)
			if facts == nil {
				if err == nil {
					t.Fatal("nil facts without an error")
				}
				continue
			}
			fa := facts.(*Facts)
			if len(fa.Architectures) > maxArchitectures || len(fa.Anomalies) > maxAnomalies {
				t.Fatalf("%d architectures, %d anomalies", len(fa.Architectures), len(fa.Anomalies))
			}
			for _, ar := range fa.Architectures {
				if len(ar.LoadCommands) > maxLoadCommands || len(ar.Dylibs) > maxDylibs || len(ar.Rpaths) > maxRpaths ||
					len(ar.Segments) > maxSegments || len(ar.ImportedSymbols) > maxImportedSymbols ||
					len(ar.Anomalies) > maxAnomalies || len(ar.LoadCommandCounts) > maxCommandKinds {
					t.Fatalf("a list exceeds its cap: %+v", ar)
				}
				if ar.Offset < 0 || ar.Offset+ar.Size > int64(len(b)) {
					t.Fatalf("architecture at %d+%d outside the %d-byte file", ar.Offset, ar.Size, len(b))
				}
				if cs := ar.CodeSignature; cs != nil {
					if len(cs.Blobs) > maxBlobs || len(cs.Entitlements) > maxEntitlementsBytes || len(cs.EntitlementKeys) > maxEntitlementKeys {
						t.Fatalf("signature lists exceed their caps")
					}
				}
			}
		}
	})
}
