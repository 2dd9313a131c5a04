package checksums

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"kensa.dev/kensa/internal/result"
)

// TestB17NormalisedSignedText covers row B17 of the bad-input catalogue (gitsign
// CVE-2026-44309: a signature checked over normalised bytes while the decision was taken
// on the raw ones). kensa verifies no commit signatures; the only signatures it checks
// over normalised bytes are OpenPGP's over text: a clearsigned manifest (trailing white
// space, line endings and dash-escaping are normalised away by the standard) and a
// detached signature made in text mode (line endings). The property is that the
// decision is taken on exactly the text the signature covers: every change that the
// normalisation absorbs yields the very same checks, and every other change fails.
// A detached binary signature covers the raw bytes, so any change to them fails.
func TestB17NormalisedSignedText(t *testing.T) {
	g := newGnuPG(t)
	vendor := g.genKey("Vendor Release <release@vendor.example>", "ed25519", "5y")
	keys := mustKeys(t, "vendor.asc", g.export(vendor))

	files := map[string]string{"app.exe": "MZ the application", "tools/run.sh": "#!/bin/sh\nexec app.exe\n"}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	manifest := fmt.Sprintf("%s  app.exe\n%s  tools/run.sh\n", sum(files["app.exe"]), sum(files["tools/run.sh"]))
	// The attacker's file, named like app.exe with a trailing space.
	const evil = "MZ the attacker's application"

	verify := func(t *testing.T, extra map[string]string) []result.Check {
		t.Helper()
		all := map[string]string{"app.exe ": evil}
		for k, v := range files {
			all[k] = v
		}
		for k, v := range extra {
			all[k] = v
		}
		return Verify(memDelivery(all), Options{Keys: keys})
	}
	// editLines applies f to each line of the signed text of a clearsigned message.
	editLines := func(clear string, f func(string) string) string {
		head, rest, _ := strings.Cut(clear, "\n\n")
		body, sig, _ := strings.Cut(rest, "\n-----BEGIN PGP SIGNATURE-----")
		lines := strings.Split(body, "\n")
		for i := range lines {
			lines[i] = f(lines[i])
		}
		return head + "\n\n" + strings.Join(lines, "\n") + "\n-----BEGIN PGP SIGNATURE-----" + sig
	}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

	t.Run("clearsigned", func(t *testing.T) {
		clear := string(g.sign(vendor+"!", "clear", []byte(manifest)))
		ref := verify(t, map[string]string{"SHA256SUMS.asc": clear})
		want(t, ref, CheckSignature, "SHA256SUMS.asc", result.Pass, "good signature by key "+vendor)
		want(t, ref, CheckManifest, "SHA256SUMS.asc", result.Pass, "all 2 listed files match")
		want(t, ref, CheckFile, "app.exe", result.Pass)
		if len(bySubject(ref)[CheckFile+" "+escaped("app.exe ")]) != 0 {
			t.Fatalf("a file the manifest does not list was checked:\n%s", dump(ref))
		}
		for _, tc := range []struct {
			name string
			text string
		}{
			{"trailing white space", editLines(clear, func(l string) string { return l + " \t " })},
			{"CRLF line endings", crlf(clear)},
			{"dash-escaped lines", editLines(clear, func(l string) string { return "- " + l })},
		} {
			got := verify(t, map[string]string{"SHA256SUMS.asc": tc.text})
			if !reflect.DeepEqual(got, ref) {
				t.Errorf("%s: the normalised text verifies but the checks differ:\n%s\nwant\n%s", tc.name, dump(got), dump(ref))
			}
		}
		addLine := func(line string) string {
			return editLines(clear, func(l string) string {
				if strings.HasSuffix(l, "  tools/run.sh") {
					return l + "\n" + line
				}
				return l
			})
		}
		for _, tc := range []struct {
			name, text, detail string
		}{
			{"name changed", strings.Replace(clear, "  app.exe", "  app.exe.bak", 1), "bad signature"},
			{"digest changed", strings.Replace(clear, sum(files["app.exe"]), sum(evil), 1), "bad signature"},
			{"white space inside a line", strings.Replace(clear, "  app.exe", "   app.exe", 1), "bad signature"},
			{"line added", addLine(sum(evil) + "  evil.exe"), "bad signature"},
			// The added name loses its trailing space as the signed text does: it is
			// app.exe again, with another digest, and the manifest contradicts itself.
			{"line added for the name with a trailing space", addLine(sum(evil) + "  app.exe "), "contradicts itself"},
		} {
			got := verify(t, map[string]string{"SHA256SUMS.asc": tc.text})
			want(t, got, CheckSignature, "SHA256SUMS.asc", result.Fail, tc.detail)
		}
	})

	t.Run("detached binary signature", func(t *testing.T) {
		sig := string(g.sign(vendor+"!", "armor", []byte(manifest)))
		ref := verify(t, map[string]string{"SHA256SUMS": manifest, "SHA256SUMS.asc": sig})
		want(t, ref, CheckSignature, "SHA256SUMS", result.Pass, "good signature by key "+vendor)
		for _, text := range []string{crlf(manifest), strings.ReplaceAll(manifest, "\n", " \n")} {
			got := verify(t, map[string]string{"SHA256SUMS": text, "SHA256SUMS.asc": sig})
			want(t, got, CheckSignature, "SHA256SUMS", result.Fail, "bad signature")
		}
	})

	t.Run("detached text-mode signature", func(t *testing.T) {
		sig := string(g.sign(vendor+"!", "armor", []byte(manifest), "--textmode"))
		ref := verify(t, map[string]string{"SHA256SUMS": manifest, "SHA256SUMS.asc": sig})
		want(t, ref, CheckSignature, "SHA256SUMS", result.Pass, "good signature by key "+vendor)
		got := verify(t, map[string]string{"SHA256SUMS": crlf(manifest), "SHA256SUMS.asc": sig})
		if !reflect.DeepEqual(got, ref) {
			t.Errorf("CRLF line endings: the normalised text verifies but the checks differ:\n%s\nwant\n%s", dump(got), dump(ref))
		}
		got = verify(t, map[string]string{"SHA256SUMS": strings.ReplaceAll(manifest, "\n", " \n"), "SHA256SUMS.asc": sig})
		want(t, got, CheckSignature, "SHA256SUMS", result.Fail, "bad signature")
	})
}
