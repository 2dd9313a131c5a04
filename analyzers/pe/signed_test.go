package pe

import (
	"crypto"
	"encoding/hex"
	"os"
	"testing"
)

// TestReadAuthenticode checks the parsed material handed to the trust verifier against
// the facts of the same files.
func TestReadAuthenticode(t *testing.T) {
	fx := getFixtures(t)
	for _, c := range []struct {
		path    string
		sigs    int
		entries int
		hashes  []crypto.Hash
	}{
		{fx.signed, 1, 1, []crypto.Hash{crypto.SHA256}},
		{fx.nested, 2, 1, []crypto.Hash{crypto.SHA256, crypto.SHA1}},
		{fx.padded, 1, 1, []crypto.Hash{crypto.SHA256}},
		{fx.exe, 0, 0, nil},
	} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		si, err := ReadAuthenticode(b)
		if err != nil {
			t.Fatal(err)
		}
		facts, err := analyzeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(si.Signatures) != c.sigs || len(si.Authenticode.Signatures) != c.sigs || len(si.Entries) != c.entries ||
			si.Size != int64(len(b)) || si.Authenticode.Authentihash["sha256"] != facts.Authenticode.Authentihash["sha256"] {
			t.Errorf("%s: %d signatures, %d entries, size %d", c.path, len(si.Signatures), len(si.Entries), si.Size)
			continue
		}
		for i, h := range c.hashes {
			sd := si.Signatures[i]
			if sd.PKCS7 == nil || sd.Hash != h || len(sd.PKCS7.Signers) != 1 {
				t.Errorf("%s: signature %d = %+v", c.path, i, sd)
			}
			if got := hex.EncodeToString(si.Digest(h)); got != si.Authenticode.Signatures[i].SignedDigest {
				t.Errorf("%s: digest %s, signed %s", c.path, got, si.Authenticode.Signatures[i].SignedDigest)
			}
		}
		if c.entries == 1 {
			e := si.Entries[0]
			if e.Offset != si.TableStart || e.Type != 2 || e.Revision != 0x0200 || e.SignatureLength == 0 ||
				e.Offset+8+e.SignatureLength > si.TableEnd || int64(si.Authenticode.TableOffset) != si.TableStart {
				t.Errorf("%s: entry %+v, table [%d, %d)", c.path, e, si.TableStart, si.TableEnd)
			}
		}
	}
	b, err := os.ReadFile(fx.padded)
	if err != nil {
		t.Fatal(err)
	}
	// The 16 bytes added inside the WIN_CERTIFICATE lie past the signature.
	if si, err := ReadAuthenticode(b); err != nil || si.Entries[0].Length-8-si.Entries[0].SignatureLength < 16 {
		t.Errorf("padded: %v %+v", err, si)
	}
	if _, err := ReadAuthenticode([]byte("MZ not a PE")); err == nil {
		t.Error("ReadAuthenticode accepted a non-PE")
	}
}
