// Package sbom makes a delivery's SBOM from its bytes and reconciles it with what the
// vendor declared.
//
// Generate runs syft's package catalogers over kensa's inventory (taken with
// inventory.Options.Keep): every filesystem of the delivery, the target and the inside
// of each archive found in it, is offered to syft as a file.Resolver over the entries
// kensa already walked, so nothing is unpacked twice and nested archives are cataloged
// too. Encode writes CycloneDX 1.6, SPDX 2.3 or syft JSON, with every executable listed
// with its digest, hardening summary and whether a package accounts for it.
//
// ReadDeclared reads a vendor's SBOM (CycloneDX 1.2-1.6 JSON or XML, SPDX 2.2-2.3 JSON
// or tag-value); Reconcile reports the differences as findings, and Diff compares two
// SBOMs component by component.
//
//	inv, _ := inventory.Take(ctx, []string{"delivery.tar.gz"}, inventory.Options{Limits: limits.Default(), Keep: true})
//	defer inv.Close()
//	s, _ := sbom.Generate(ctx, inv, sbom.Options{})
//	_ = sbom.Encode(os.Stdout, s, sbom.CycloneDXJSON)
package sbom

import (
	// The RPM catalogers read newer rpmdb databases (SQLite) through database/sql; this
	// is the pure-Go driver syft's own CLI registers.
	_ "modernc.org/sqlite"
)
