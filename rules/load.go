package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Bounds on what a pack may hold: packs can come from third parties.
const (
	maxFileSize = 1 << 20 // bytes of one rule file
	maxFiles    = 10000   // rule files in one pack
	maxRules    = 100000  // rules in all packs together
)

// Pack is a named set of rules, loaded from one directory.
type Pack struct {
	Name  string
	Rules []*Rule
	// FS and Dir are where the pack was loaded from; test fixtures are read from there.
	FS  fs.FS
	Dir string
	// Builtin marks a pack compiled into kensa.
	Builtin bool
}

// LoadPack reads every .yaml and .yml file under dir in fsys (recursively, skipping
// directories named testdata) as a pack named name. analyzers names the analyzers whose
// facts the conditions may use (no pattern may take one of those names). The error, if
// any, is an Errors listing every problem with its file, line and column.
func LoadPack(fsys fs.FS, dir, name string, analyzers []string) (*Pack, error) {
	return loadPack(fsys, dir, name, dir, analyzers)
}

// loadPack is LoadPack with the files named, in rules and errors, under display instead
// of dir.
func loadPack(fsys fs.FS, dir, name, display string, analyzers []string) (*Pack, error) {
	p := &Pack{Name: name, FS: fsys, Dir: dir}
	var errs Errors
	var files []string
	err := fs.WalkDir(fsys, dir, func(pth string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return fs.SkipDir
		}
		if d.Type().IsRegular() && (strings.HasSuffix(pth, ".yaml") || strings.HasSuffix(pth, ".yml")) {
			if len(files) == maxFiles {
				return fmt.Errorf("more than %d rule files", maxFiles)
			}
			files = append(files, pth)
		}
		return nil
	})
	if err != nil {
		return nil, Errors{{File: display, Msg: err.Error()}}
	}
	if len(files) == 0 {
		return nil, Errors{{File: display, Msg: "no rule files (*.yaml, *.yml) here"}}
	}
	slices.Sort(files)
	for _, f := range files {
		shown := f
		if rel, ok := strings.CutPrefix(f, dir+"/"); ok && dir != "." {
			shown = path.Join(display, rel)
		} else if dir == "." {
			shown = path.Join(display, f)
		}
		rules, ferrs := loadFile(fsys, f, shown, analyzers)
		errs = append(errs, ferrs...)
		for _, r := range rules {
			r.Pack = name
		}
		p.Rules = append(p.Rules, rules...)
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// loadFile decodes the rules of one file, named name in fsys and shown as shown.
func loadFile(fsys fs.FS, name, shown string, analyzers []string) ([]*Rule, Errors) {
	fsName := name
	name = shown
	f, err := fsys.Open(fsName)
	if err != nil {
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	if len(src) > maxFileSize {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("larger than %d bytes; split it into several files", maxFileSize)}}
	}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, Errors{yamlError(name, err)}
	}
	var (
		rules []*Rule
		errs  Errors
	)
	for _, doc := range file.Docs {
		if doc.Body == nil {
			continue
		}
		if alias := findAlias(doc.Body); alias != nil {
			errs = append(errs, &Error{File: name, Pos: posOf(alias), Msg: "YAML aliases are not allowed in rule files; write the value out"})
			continue
		}
		r := &Rule{File: name, fsPath: fsName, Pos: posOf(doc.Body)}
		if _, ok := doc.Body.(*ast.MappingNode); !ok {
			errs = append(errs, &Error{File: name, Pos: r.Pos, Msg: "a rule is a mapping of keys (id, title, severity, …)"})
			continue
		}
		if err := yaml.NodeToValue(doc.Body, r, yaml.DisallowUnknownField()); err != nil {
			errs = append(errs, yamlError(name, err))
			continue
		}
		if r.Condition.Block {
			r.Condition.Indent = indentOf(src, r.Condition.Pos.Line+1)
		}
		errs = append(errs, r.check(analyzers)...)
		rules = append(rules, r)
	}
	return rules, errs
}

// indentOf counts the spaces that start line n (from 1) of src.
func indentOf(src []byte, n int) int {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return 0
		}
		src = src[j+1:]
	}
	return len(src) - len(bytes.TrimLeft(src, " "))
}

// findAlias returns the first alias node under n.
func findAlias(n ast.Node) ast.Node {
	var found ast.Node
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if _, ok := n.(*ast.AliasNode); ok && found == nil {
			found = n
		}
		return found == nil
	}), n)
	return found
}

type visitFunc func(ast.Node) bool

func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

func posOf(n ast.Node) Pos {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return Pos{tk.Position.Line, tk.Position.Column}
	}
	return Pos{}
}

// yamlError turns a decoding error into an Error at its position.
func yamlError(file string, err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Pos = Pos{tk.Position.Line, tk.Position.Column}
		}
		return e
	}
	return &Error{File: file, Msg: err.Error()}
}

// Fixture opens a test fixture of a rule.
func (p *Pack) Fixture(r *Rule, t Test) (fs.File, error) {
	return p.FS.Open(path.Join(path.Dir(r.fsPath), t.Fixture))
}
