package checksums

import (
	"bytes"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"kensa.dev/kensa/internal/result"
)

// fuzzSeeds are manifests in every accepted form and some refused ones, as the parser
// tests use them.
var fuzzSeeds = []struct{ name, text string }{
	{"SHA256SUMS", d256a + "  a.txt\n" + d256b + " *bin/b.exe\r\n# comment\n\n"},
	{"SHA256SUMS", `\` + d256a + `  a\nb\\c` + "\n" + d256b + "  ../x\n"},
	{"SHA256SUMS", d256a + " a\n" + d256b + " b\n"},
	{"SHA512SUMS", d512a + "  a.txt\n"},
	{"CHECKSUMS", "SHA256 (a.txt) = " + d256a + "\nSHA512 (a.txt) = " + d512a + "\n" + `\SHA256 (x\ny) = ` + d256a + "\n"},
	{"checksums.txt", "SHA2-256(a.txt)= " + d256a + "\nMD5 (a) = d41d8cd98f00b204e9800998ecf8427e\n"},
	{"app.tar.gz.sha256", d256a + "\n"},
	{"SHA256SUMS.asc", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + d256a + "  a\n- " + d256b + "  b\n-----BEGIN PGP SIGNATURE-----\n\nwnUEARYKAB0WIQQ=\n=AAAA\n-----END PGP SIGNATURE-----\n"},
	{"SHA256SUMS", d256a + "  /etc/passwd\n" + d256a + "  C:\\x\n"},
}

// FuzzParse feeds arbitrary manifests to Parse: it must not panic (a recovered panic
// shows as an "internal error"), and what it accepts must be well-formed and contained.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.name, []byte(s.text))
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		m, err := Parse(name, data)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Parse panicked: %v", err)
			}
			return
		}
		if len(m.Entries) == 0 || len(m.Entries) > MaxEntries {
			t.Fatalf("%d entries", len(m.Entries))
		}
		for _, e := range m.Entries {
			if e.Name == "" || e.Name != path.Clean(e.Name) && !m.Bare || strings.HasPrefix(e.Name, "/") ||
				e.Name == ".." || strings.HasPrefix(e.Name, "../") || strings.IndexByte(e.Name, 0) >= 0 {
				t.Fatalf("accepted name %q", e.Name)
			}
			if len(e.Digest) != e.Algorithm.hexLen() || !isHex([]byte(e.Digest), len(e.Digest)) || strings.ToLower(e.Digest) != e.Digest {
				t.Fatalf("accepted digest %q for %s", e.Digest, e.Algorithm)
			}
			if e.Algorithm != SHA256 && e.Algorithm != SHA512 {
				t.Fatalf("algorithm %q", e.Algorithm)
			}
		}
	})
}

// fuzzKey is a key made by the library for the OpenPGP fuzz targets, with a detached
// signature over testManifest in binary and armored form.
func fuzzKey(f *testing.F) (*Keys, []byte, []byte, []byte) {
	f.Helper()
	e, err := openpgp.NewEntity("Fuzz", "", "fuzz@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		f.Fatal(err)
	}
	var pub, bin, arm bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		f.Fatal(err)
	}
	if err := openpgp.DetachSign(&bin, []*openpgp.Entity{e}, strings.NewReader(testManifest), nil); err != nil {
		f.Fatal(err)
	}
	if err := openpgp.ArmoredDetachSign(&arm, []*openpgp.Entity{e}, strings.NewReader(testManifest), nil); err != nil {
		f.Fatal(err)
	}
	k, err := ParseKeys("fuzz.gpg", pub.Bytes())
	if err != nil {
		f.Fatal(err)
	}
	return k, pub.Bytes(), bin.Bytes(), arm.Bytes()
}

// FuzzVerifySignature feeds arbitrary signatures to VerifySignature: it must not panic,
// and a pass must name the one key given.
func FuzzVerifySignature(f *testing.F) {
	k, _, bin, arm := fuzzKey(f)
	f.Add(bin)
	f.Add(arm)
	if s := VerifySignature(k, []byte(testManifest), bin, time.Time{}); s.Status != result.Pass {
		f.Fatalf("seed signature: %s %s", s.Status, s.Detail)
	}
	fpr := k.Fingerprints()[0]
	f.Fuzz(func(t *testing.T, sig []byte) {
		s := VerifySignature(k, []byte(testManifest), sig, time.Time{})
		if strings.Contains(s.Detail, "internal error") {
			t.Fatalf("VerifySignature panicked: %s", s.Detail)
		}
		if s.Status == result.Pass && s.Fingerprint != fpr {
			t.Fatalf("pass by %s", s.Fingerprint)
		}
	})
}

// FuzzParseKeys feeds arbitrary key files to ParseKeys: it must not panic and must never
// return a key list holding secret keys.
func FuzzParseKeys(f *testing.F) {
	_, pub, _, arm := fuzzKey(f)
	f.Add(pub)
	f.Add(arm)
	f.Add([]byte("KEYS\n" + armorPublic + "\n\nAAAA\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseKeys("fuzz", data)
		if err != nil {
			if strings.Contains(err.Error(), "unreadable (") {
				t.Fatalf("ParseKeys panicked: %v", err)
			}
			return
		}
		for _, e := range k.list {
			if e.PrivateKey != nil {
				t.Fatal("secret key accepted")
			}
		}
	})
}
