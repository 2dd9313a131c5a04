package registry

import (
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/facts.md from the facts types")

const factsDoc = "../../docs/facts.md"

// TestFactsDocCurrent keeps docs/facts.md in step with the facts types: every field a
// rule can use, with its JSON name, its type and its doc comment. A field without a doc
// comment fails the test.
func TestFactsDocCurrent(t *testing.T) {
	g := &docGen{comments: map[string]*pkgComments{}}
	want := g.generate()
	for _, m := range g.missing {
		t.Errorf("%s has no doc comment: rule authors read it in docs/facts.md", m)
	}
	got, _ := os.ReadFile(factsDoc)
	if string(got) == want {
		return
	}
	if *update {
		if err := os.WriteFile(factsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date; run go test ./analyzers/registry -update", factsDoc)
}

// pkgComments are the doc comments of one package: its synopsis, and those of its types
// and their fields.
type pkgComments struct {
	synopsis string
	types    map[string]string
	fields   map[string]map[string]string
}

type docGen struct {
	comments map[string]*pkgComments
	missing  []string
	b        strings.Builder
}

func (g *docGen) pkg(path string) *pkgComments {
	if c, ok := g.comments[path]; ok {
		return c
	}
	c := &pkgComments{types: map[string]string{}, fields: map[string]map[string]string{}}
	g.comments[path] = c
	if !strings.HasPrefix(path, module) {
		return c
	}
	dir := filepath.Join("../..", strings.TrimPrefix(path, module))
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		if af.Doc != nil && c.synopsis == "" {
			c.synopsis = (&doc.Package{}).Synopsis(af.Doc.Text())
		}
		for _, decl := range af.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				d := ts.Doc
				if d == nil && len(gd.Specs) == 1 {
					d = gd.Doc
				}
				c.types[ts.Name.Name] = oneLine(d)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				fields := map[string]string{}
				for _, fl := range st.Fields.List {
					text := oneLine(fl.Doc)
					if text == "" {
						text = oneLine(fl.Comment)
					}
					for _, n := range fl.Names {
						fields[n.Name] = text
					}
					if len(fl.Names) == 0 { // embedded
						fields[embeddedName(fl.Type)] = text
					}
				}
				c.fields[ts.Name.Name] = fields
			}
		}
	}
	return c
}

func embeddedName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return embeddedName(e.X)
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return ""
}

func oneLine(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	s := strings.Join(strings.Fields(cg.Text()), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func (g *docGen) generate() string {
	g.b.WriteString(`# Facts

<!-- Generated from the facts types by go test ./analyzers/registry -update; do not edit. -->

` + "`kensa facts TARGET`" + ` shows, for every file of a delivery, what each analyzer observed.
Rule conditions (CEL) read the same facts: each analyzer's facts are a variable named
after the analyzer (` + "`elf.relro == \"none\"`" + `, ` + "`pe.dllCharacteristics.aslr`" + `), absent when
the analyzer does not apply to the file. Analyzers observe; rules judge.

Field paths below use ` + "`[]`" + ` for the elements of a list and ` + "`{}`" + ` for the values of a map.
Numbers are JSON numbers; offsets and sizes are in bytes; entropy is Shannon entropy in
bits per byte (0 to 8). In CEL a uint compares for equality with a uint literal
(` + "`elf.entry == 0u`" + `), while <, <=, > and >= mix int, uint and double freely. Lists that
could be huge are capped, and a fact next to the list says when the cap was reached.

`)
	for _, a := range All() {
		typ := reflect.TypeOf(a.Schema())
		if typ == nil {
			continue
		}
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		pc := g.pkg(typ.PkgPath())
		fmt.Fprintf(&g.b, "- [`%s`](#%s): %s\n", a.Name(), a.Name(), pc.synopsis)
	}
	for _, a := range All() {
		typ := reflect.TypeOf(a.Schema())
		if typ == nil {
			continue
		}
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		pc := g.pkg(typ.PkgPath())
		fmt.Fprintf(&g.b, "\n## %s\n\n%s\n\n", a.Name(), pc.synopsis)
		if d := pc.types[typ.Name()]; d != "" {
			fmt.Fprintf(&g.b, "%s\n\n", d)
		}
		g.b.WriteString("| field | type | meaning |\n|---|---|---|\n")
		g.fields(a.Name(), typ, map[reflect.Type]bool{})
	}
	return g.b.String()
}

var timeType = reflect.TypeOf(time.Time{})

// fields writes one row per field of the struct t, under prefix, and recurses into
// nested structs, lists and maps of structs.
func (g *docGen) fields(prefix string, t reflect.Type, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	pc := g.pkg(t.PkgPath())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			g.fields(prefix, ft, seen)
			continue
		}
		if name == "" {
			name = f.Name
		}
		text := pc.fields[t.Name()][f.Name]
		if text == "" {
			g.missing = append(g.missing, fmt.Sprintf("%s.%s (%s)", t.PkgPath(), t.Name()+"."+f.Name, prefix+"."+name))
		}
		path := prefix + "." + name
		fmt.Fprintf(&g.b, "| `%s` | %s | %s |\n", path, typeName(ft), text)
		g.nested(path, ft, seen)
	}
}

// nested recurses into the structs a field holds.
func (g *docGen) nested(path string, t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
	case t.Kind() == reflect.Struct:
		g.fields(path, t, seen)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		g.nested(path+"[]", t.Elem(), seen)
	case t.Kind() == reflect.Map:
		g.nested(path+"{}", t.Elem(), seen)
	}
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "time (RFC 3339 string)"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "uint"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string (base64)"
		}
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Key()) + " to " + typeName(t.Elem())
	case reflect.Interface:
		return "any"
	}
	return t.Kind().String()
}
