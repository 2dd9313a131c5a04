package sbom

import (
	"slices"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		typ, a, b string
		want      int
	}{
		{"deb", "1.0", "1.0", 0},
		{"deb", "1.0-1", "1.0-2", -1},
		{"deb", "1.0~rc1-1", "1.0-1", -1}, // ~ sorts before the release
		{"deb", "1:0.9", "2.0", 1},        // the epoch decides
		{"deb", "5.2.15-2+b7", "5.2.15-2", 1},
		{"deb", "1.10", "1.9", 1},
		{"deb", "1.5.4+dfsg2-5", "1.5.4+dfsg2-5", 0},
		{"rpm", "3.0.7-16.el9", "3.0.7-24.el9", -1},
		{"golang", "v1.2.3", "v1.10.0", -1},
		{"golang", "v1.2.0-rc.1", "v1.2.0", -1}, // a pre-release comes before its release
		{"golang", "go1.21.5", "go1.26.8", -1},
		{"npm", "4.17.21", "4.17.20", 1},
		{"pypi", "2.31.0", "2.28.0", 1},
		{"cargo", "1.0.210", "1.0.210+build.1", 0},
	} {
		if got := CompareVersions(tc.typ, tc.a, tc.b); got != tc.want {
			t.Errorf("%s %q vs %q = %d, want %d", tc.typ, tc.a, tc.b, got, tc.want)
		}
		if tc.want != 0 {
			if got := CompareVersions(tc.typ, tc.b, tc.a); got != -tc.want {
				t.Errorf("%s %q vs %q = %d, want %d (antisymmetry)", tc.typ, tc.b, tc.a, got, -tc.want)
			}
		}
	}
}

func TestDiff(t *testing.T) {
	old := []Component{
		{Name: "bash", Version: "5.2.15-2", Type: "deb", PURL: "pkg:deb/debian/bash@5.2.15-2?arch=amd64"},
		{Name: "openssl", Version: "3.0.11-1", Type: "deb", PURL: "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"},
		{Name: "lodash", Version: "4.17.21", Type: "npm", PURL: "pkg:npm/lodash@4.17.21"},
		{Name: "golang.org/x/net", Version: "v0.20.0", Type: "golang", PURL: "pkg:golang/golang.org/x/net@v0.20.0"},
		{Name: "golang.org/x/net", Version: "v0.23.0", Type: "golang", PURL: "pkg:golang/golang.org/x/net@v0.23.0"},
		{Name: "Requests", Version: "2.31.0", Type: "pypi"},
	}
	new := []Component{
		{Name: "bash", Version: "5.2.15-2+b7", Type: "deb", PURL: "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12"},
		{Name: "openssl", Version: "3.0.9-1", Type: "deb", PURL: "pkg:deb/debian/openssl@3.0.9-1?arch=amd64"},
		{Name: "ms", Version: "2.1.3", Type: "npm", PURL: "pkg:npm/ms@2.1.3"},
		{Name: "golang.org/x/net", Version: "v0.23.0", Type: "golang", PURL: "pkg:golang/golang.org/x/net@v0.23.0"},
		{Name: "golang.org/x/net", Version: "v0.33.0", Type: "golang", PURL: "pkg:golang/golang.org/x/net@v0.33.0"},
		{Name: "requests", Version: "2.31.0", Type: "pypi"},
		{Name: "xz-utils", Version: "5.6.1", Type: "deb", PURL: "pkg:deb/debian/xz-utils@5.6.1"},
	}
	got := Diff(old, new)
	want := []Change{
		{Kind: Upgraded, Name: "bash", Type: "deb", PURL: new[0].PURL, Old: "5.2.15-2", New: "5.2.15-2+b7"},
		// one version kept, another replaced: an upgrade of the replaced one
		{Kind: Upgraded, Name: "golang.org/x/net", Type: "golang", PURL: new[4].PURL, Old: "v0.20.0", New: "v0.33.0"},
		{Kind: Removed, Name: "lodash", Type: "npm", PURL: old[2].PURL, Old: "4.17.21"},
		{Kind: Added, Name: "ms", Type: "npm", PURL: new[2].PURL, New: "2.1.3"},
		{Kind: Downgraded, Name: "openssl", Type: "deb", PURL: new[1].PURL, Old: "3.0.11-1", New: "3.0.9-1"},
		{Kind: Added, Name: "xz-utils", Type: "deb", PURL: new[6].PURL, New: "5.6.1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}
	if d := Diff(new, new); len(d) != 0 {
		t.Errorf("a list differs from itself: %+v", d)
	}
}
