package checksums

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kensa.dev/kensa/internal/result"
)

const testManifest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  app.tar.gz\n" +
	"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752  app.exe\n"

func mustKeys(t *testing.T, name string, data []byte) *Keys {
	t.Helper()
	k, err := ParseKeys(name, data)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

func wantSig(t *testing.T, s Signature, status, detailPart string) {
	t.Helper()
	if s.Status != status || !strings.Contains(s.Detail, detailPart) {
		t.Fatalf("got %s %q, want %s containing %q", s.Status, s.Detail, status, detailPart)
	}
}

// TestOpenPGP checks signatures made by the real gpg: good detached (armored and binary)
// and clearsigned signatures pass with the signer named; a tampered manifest, another
// key's signature, SHA-1, an expired key, a revoked key and an expired signature fail;
// a signing subkey passes; no keys is a skip.
func TestOpenPGP(t *testing.T) {
	g := newGnuPG(t)
	alice := g.genKey("Alice Vendor <alice@example.com>", "ed25519", "5y")
	bob := g.genKey("Bob Other <bob@example.com>", "ed25519", "5y")
	aliceKeys := mustKeys(t, "alice.asc", g.export(alice))
	data := []byte(testManifest)

	t.Run("detached armored", func(t *testing.T) {
		s := VerifySignature(aliceKeys, data, g.sign(alice+"!", "armor", data), zeroTime)
		wantSig(t, s, result.Pass, "good signature by key "+alice+" (Alice Vendor <alice@example.com>)")
		if s.Fingerprint != alice || s.UserID != "Alice Vendor <alice@example.com>" {
			t.Fatalf("signer %s %q", s.Fingerprint, s.UserID)
		}
	})
	t.Run("detached binary", func(t *testing.T) {
		sig := g.sign(alice+"!", "binary", data)
		if strings.HasPrefix(string(sig), "-----") {
			t.Fatal("gpg made an armored signature")
		}
		wantSig(t, VerifySignature(aliceKeys, data, sig, zeroTime), result.Pass, "good signature by key "+alice)
	})
	t.Run("binary key file", func(t *testing.T) {
		k := mustKeys(t, "alice.gpg", g.run(nil, "--export", alice))
		wantSig(t, VerifySignature(k, data, g.sign(alice+"!", "armor", data), zeroTime), result.Pass, alice)
	})
	t.Run("clearsigned", func(t *testing.T) {
		m, err := Parse("SHA256SUMS.asc", g.sign(alice+"!", "clear", data))
		if err != nil {
			t.Fatal(err)
		}
		if !m.Clearsigned || len(m.Entries) != 2 || m.Entries[1].Name != "app.exe" {
			t.Fatalf("parsed %+v", m)
		}
		wantSig(t, verifySignature(aliceKeys, m.signed, m.signature, m.hashHeaders, zeroTime), result.Pass, alice)
	})
	t.Run("tampered", func(t *testing.T) {
		sig := g.sign(alice+"!", "armor", data)
		bad := []byte(strings.Replace(testManifest, "9f86", "9f87", 1))
		wantSig(t, VerifySignature(aliceKeys, bad, sig, zeroTime), result.Fail, "bad signature")
	})
	t.Run("tampered clearsigned", func(t *testing.T) {
		clear := g.sign(alice+"!", "clear", data)
		bad := []byte(strings.Replace(string(clear), "app.exe", "app.ex_", 1))
		m, err := Parse("SHA256SUMS.asc", bad)
		if err != nil {
			t.Fatal(err)
		}
		wantSig(t, verifySignature(aliceKeys, m.signed, m.signature, m.hashHeaders, zeroTime), result.Fail, "bad signature")
	})
	t.Run("another key", func(t *testing.T) {
		// Bob's signature is good, but Bob is not the pinned signer.
		wantSig(t, VerifySignature(aliceKeys, data, g.sign(bob+"!", "armor", data), zeroTime), result.Fail, "not among the --pgp-key keys")
		both := mustKeys(t, "both.asc", append(g.export(alice), g.export(bob)...))
		wantSig(t, VerifySignature(both, data, g.sign(bob+"!", "armor", data), zeroTime), result.Pass, bob)
	})
	t.Run("text mode", func(t *testing.T) {
		wantSig(t, VerifySignature(aliceKeys, data, g.sign(alice+"!", "armor", data, "--textmode"), zeroTime), result.Pass, alice)
	})
	t.Run("two signers", func(t *testing.T) {
		// One file, two signatures (as many builders sign one SHA256SUMS): Alice's counts.
		sig := g.run(data, "--local-user", bob+"!", "--local-user", alice+"!", "--armor", "--detach-sign")
		wantSig(t, VerifySignature(aliceKeys, data, sig, zeroTime), result.Pass, "1 other signature(s) in the file were not counted")
		bobKeys := mustKeys(t, "bob.asc", g.export(bob))
		wantSig(t, VerifySignature(bobKeys, data, sig, zeroTime), result.Pass, bob)
		bad := []byte(strings.Replace(testManifest, "app.exe", "app.ex_", 1))
		wantSig(t, VerifySignature(aliceKeys, bad, sig, zeroTime), result.Fail, "bad signature")
	})
	t.Run("hash header", func(t *testing.T) {
		// The Hash header is not signed; one that misstates the hash is refused.
		clear := strings.Replace(string(g.sign(alice+"!", "clear", data)), "Hash: SHA256", "Hash: SHA512", 1)
		m, err := Parse("SHA256SUMS.asc", []byte(clear))
		if err != nil {
			t.Fatal(err)
		}
		wantSig(t, verifySignature(aliceKeys, m.signed, m.signature, m.hashHeaders, zeroTime), result.Fail, "announces hash SHA512")
	})
	t.Run("dsa refused", func(t *testing.T) {
		dsa := g.genKey("Dsa Vendor <dsa@example.com>", "dsa2048", "5y")
		k := mustKeys(t, "dsa.asc", g.export(dsa))
		wantSig(t, VerifySignature(k, data, g.sign(dsa+"!", "armor", data), zeroTime), result.Fail, "algorithm kensa does not accept")
	})
	t.Run("garbage signatures", func(t *testing.T) {
		for _, sig := range []string{"", "   \n", "-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----\n", "-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n", "\x88\x05garbage"} {
			if s := VerifySignature(aliceKeys, data, []byte(sig), zeroTime); s.Status != result.Fail {
				t.Errorf("signature %q: %s %s", sig, s.Status, s.Detail)
			}
		}
	})
	t.Run("no keys", func(t *testing.T) {
		wantSig(t, VerifySignature(nil, data, g.sign(alice+"!", "armor", data), zeroTime), result.Skip, "no --pgp-key was given")
	})
	t.Run("sha1", func(t *testing.T) {
		rsa := g.genKey("Rsa Vendor <rsa@example.com>", "rsa2048", "5y")
		k := mustKeys(t, "rsa.asc", g.export(rsa))
		wantSig(t, VerifySignature(k, data, g.sign(rsa+"!", "armor", data, "--digest-algo", "SHA256"), zeroTime), result.Pass, rsa)
		wantSig(t, VerifySignature(k, data, g.sign(rsa+"!", "armor", data, "--digest-algo", "SHA1"), zeroTime), result.Fail, "SHA-1")
		wantSig(t, VerifySignature(k, data, g.sign(rsa+"!", "binary", data, "--digest-algo", "SHA1"), zeroTime), result.Fail, "SHA-1")
		m, err := Parse("SHA256SUMS.asc", g.sign(rsa+"!", "clear", data, "--digest-algo", "SHA1"))
		if err != nil {
			t.Fatal(err)
		}
		wantSig(t, verifySignature(k, m.signed, m.signature, m.hashHeaders, zeroTime), result.Fail, "SHA-1")
	})
	t.Run("expired key", func(t *testing.T) {
		// Made and used in 2020, valid for one year: good then, expired now.
		old := []string{"--faked-system-time", "20200101T000000!"}
		fpr := g.genKey("Old Vendor <old@example.com>", "ed25519", "1y", old...)
		sig := g.sign(fpr+"!", "armor", data, "--faked-system-time", "20200601T000000!")
		k := mustKeys(t, "old.asc", g.export(fpr))
		wantSig(t, VerifySignature(k, data, sig, zeroTime), result.Fail, "has expired")
	})
	t.Run("expired signature", func(t *testing.T) {
		// A key valid until 2030 that made, in 2021, a signature valid for one day.
		fpr := g.genKey("Brief Vendor <brief@example.com>", "ed25519", "10y", "--faked-system-time", "20200101T000000!")
		sig := g.sign(fpr+"!", "armor", data, "--faked-system-time", "20210101T000000!", "--default-sig-expire", "1d")
		k := mustKeys(t, "brief.asc", g.export(fpr))
		wantSig(t, VerifySignature(k, data, sig, zeroTime), result.Fail, "signature has expired")
	})
	t.Run("future signature", func(t *testing.T) {
		fpr := g.genKey("Future Vendor <future@example.com>", "ed25519", "50y", "--faked-system-time", "20350101T000000!")
		sig := g.sign(fpr+"!", "armor", data, "--faked-system-time", "20350102T000000!")
		k := mustKeys(t, "future.asc", g.export(fpr))
		wantSig(t, VerifySignature(k, data, sig, zeroTime), result.Fail, "made in the future (2035-01-02")
	})
	t.Run("revoked key", func(t *testing.T) {
		fpr := g.genKey("Gone Vendor <gone@example.com>", "ed25519", "5y")
		sig := g.sign(fpr+"!", "armor", data)
		before := mustKeys(t, "gone.asc", g.export(fpr))
		wantSig(t, VerifySignature(before, data, sig, zeroTime), result.Pass, fpr)
		// gpg writes a revocation certificate for every new key; import it as its
		// owner would after a compromise.
		rev, err := os.ReadFile(filepath.Join(g.home, "openpgp-revocs.d", fpr+".rev"))
		if err != nil {
			t.Fatal(err)
		}
		g.run([]byte(strings.Replace(string(rev), ":-----BEGIN", "-----BEGIN", 1)), "--import")
		after := mustKeys(t, "gone.asc", g.export(fpr))
		wantSig(t, VerifySignature(after, data, sig, zeroTime), result.Fail, "revoked")
	})
	t.Run("signing subkey", func(t *testing.T) {
		fpr := g.genKey("Sub Vendor <sub@example.com>", "ed25519", "5y")
		g.run(nil, "--quick-add-key", fpr, "ed25519", "sign", "2y")
		sig := g.sign(fpr, "armor", data) // gpg picks the newest signing subkey
		k := mustKeys(t, "sub.asc", g.export(fpr))
		s := VerifySignature(k, data, sig, zeroTime)
		wantSig(t, s, result.Pass, "through signing subkey")
		if s.Fingerprint != fpr {
			t.Fatalf("fingerprint %s, want the primary %s", s.Fingerprint, fpr)
		}
		// The subkey's signature does not make Alice's keys accept it.
		wantSig(t, VerifySignature(aliceKeys, data, sig, zeroTime), result.Fail, "not among")
	})
	t.Run("secret key refused", func(t *testing.T) {
		for _, args := range [][]string{{"--armor", "--export-secret-keys", alice}, {"--export-secret-keys", alice}, {"--armor", "--export-secret-subkeys", alice}} {
			_, err := ParseKeys("secret.asc", g.run(nil, args...))
			if err == nil || !strings.Contains(err.Error(), "secret key") {
				t.Fatalf("%v: err = %v, want a secret-key refusal", args, err)
			}
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "secret.asc")
		if err := os.WriteFile(p, g.run(nil, "--armor", "--export-secret-keys", alice), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKeyFiles(p); err == nil || !strings.Contains(err.Error(), "holds a secret key") {
			t.Fatalf("ReadKeyFiles(secret) err = %v", err)
		}
	})
}

// TestKeysFile reads a KEYS file (text around several armored keys) and refuses what
// is not a public key.
func TestKeysFile(t *testing.T) {
	g := newGnuPG(t)
	a := g.genKey("A <a@example.com>", "ed25519", "5y")
	b := g.genKey("B <b@example.com>", "ed25519", "5y")
	keysFile := "This file lists the release keys.\n\npub ed25519 A\n" + string(g.export(a)) + "\nand B:\n" + string(g.export(b))
	k := mustKeys(t, "KEYS", []byte(keysFile))
	if got := strings.Join(k.Fingerprints(), ","); got != a+","+b {
		t.Fatalf("fingerprints %s, want %s,%s", got, a, b)
	}
	dir := t.TempDir()
	pa, pb, big := filepath.Join(dir, "a.asc"), filepath.Join(dir, "b.gpg"), filepath.Join(dir, "big.asc")
	for p, data := range map[string][]byte{pa: g.export(a), pb: g.run(nil, "--export", b), big: make([]byte, MaxKeyFileSize+1)} {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if both, err := ReadKeyFiles(pa, pb); err != nil || both.Len() != 2 {
		t.Fatalf("ReadKeyFiles(a, b) = %v, %v", both, err)
	}
	if _, err := ReadKeyFiles(pa, big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized key file: %v", err)
	}
	if _, err := ReadKeyFiles(filepath.Join(dir, "none.asc")); err == nil {
		t.Fatal("a missing key file was accepted")
	}
	for name, data := range map[string]string{
		"empty":     "",
		"text":      "not a key\n",
		"signature": string(g.sign(a+"!", "armor", []byte("x"))),
		"truncated": string(g.export(a))[:200],
	} {
		if _, err := ParseKeys(name, []byte(data)); err == nil {
			t.Errorf("%s: ParseKeys accepted it", name)
		}
	}
}

var zeroTime = time.Time{}
