package registry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const module = "kensa.dev/kensa/"

// TestEveryAnalyzerIsListed finds every exported function under analyzers/ that returns an
// analyzers.Analyzer and fails unless All holds as many analyzers of that package.
func TestEveryAnalyzerIsListed(t *testing.T) {
	constructors := map[string][]string{} // package path → constructor names
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "testdata" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join("..", d.Name(), "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range af.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Recv != nil || !fd.Name.IsExported() || fd.Type.Results == nil || len(fd.Type.Results.List) != 1 {
					continue
				}
				if sel, ok := fd.Type.Results.List[0].Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Analyzer" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "analyzers" {
						pkg := module + "analyzers/" + d.Name()
						constructors[pkg] = append(constructors[pkg], fd.Name.Name)
					}
				}
			}
		}
	}
	if len(constructors) == 0 {
		t.Fatal("found no analyzer constructors under analyzers/")
	}
	listed := map[string]int{}
	for _, a := range All() {
		listed[pkgOf(a)]++
	}
	for pkg, names := range constructors {
		if listed[pkg] != len(names) {
			t.Errorf("%s has %d analyzer constructors (%s) but All lists %d of its analyzers: add them to All", pkg, len(names), strings.Join(names, ", "), listed[pkg])
		}
	}
	for pkg := range listed {
		if constructors[pkg] == nil {
			t.Errorf("All lists an analyzer of %s, which has no exported constructor returning analyzers.Analyzer", pkg)
		}
	}
}

func pkgOf(a any) string {
	t := reflect.TypeOf(a)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath()
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range All() {
		n := a.Name()
		if !nameRE.MatchString(n) {
			t.Errorf("analyzer name %q: want lower-case letters and digits, usable as a CEL identifier", n)
		}
		if seen[n] {
			t.Errorf("two analyzers are named %q", n)
		}
		seen[n] = true
		s := reflect.TypeOf(a.Schema())
		if s == nil || s.Kind() != reflect.Pointer || s.Elem().Kind() != reflect.Struct {
			t.Errorf("%s: Schema returns %v, want a nil pointer to the facts struct", n, s)
		}
	}
	if _, err := Select([]string{"nosuch"}); err == nil {
		t.Error("Select accepted an unknown analyzer")
	}
	if len(All()) > 1 {
		last := All()[len(All())-1].Name()
		got, err := Select([]string{last, Names()[0], last})
		if err != nil || len(got) != 2 || got[0].Name() != Names()[0] || got[1].Name() != last {
			t.Errorf("Select: %v %v", got, err)
		}
	}
}
