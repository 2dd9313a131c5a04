package rules

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/internal/result"
	"kensa.dev/kensa/rules/pattern"
)

// Bounds on evaluating one condition on one artifact.
const (
	costLimit   = 10_000_000 // CEL cost units: a condition that loops over huge lists stops
	maxEvidence = 12         // facts quoted as evidence of one finding
	maxValueLen = 120        // characters of one quoted value
)

// Artifact is what a condition knows about a file beside the analyzers' facts: the
// variable "artifact".
type Artifact struct {
	// Path is the path within the delivery, nested archives joined with "!".
	Path string `json:"path"`
	// Type is file, symlink, hardlink, …
	Type string `json:"type"`
	// Format is the sniffed format (elf, pe, script, text, …).
	Format string `json:"format"`
	// Interpreter is the #! interpreter of a script.
	Interpreter string `json:"interpreter"`
	// Size in bytes.
	Size int64 `json:"size"`
	// Mode is the permission bits in octal ("0755", "4755").
	Mode string `json:"mode"`
	// Anomalies are structural oddities the inventory noticed.
	Anomalies []string `json:"anomalies"`
}

// Trust is what the verification of the delivery established about an artifact: the
// variable "trust". Only a run that verifies signatures (kensa accept) fills it; in any
// other run Verified is false and so is everything else, so conditions about trust
// should start with trust.verified.
type Trust struct {
	// Verified says the delivery's signatures were checked in this run.
	Verified bool `json:"verified" yaml:"verified"`
	// Signed says a signature over this file itself verified: Authenticode, a Sigstore
	// bundle or signature beside it.
	Signed bool `json:"signed" yaml:"signed"`
	// Covered says a verified signature covers the file: its own, one over an archive
	// that holds it, or a verified checksum manifest that lists it.
	Covered bool `json:"covered" yaml:"covered"`
	// DeliverySigned says some signature in the delivery verified.
	DeliverySigned bool `json:"deliverySigned" yaml:"deliverySigned"`
	// SignedPeers counts the other files of the same format in the same container (the
	// delivery's top level, or one archive) whose own signature verified.
	SignedPeers int `json:"signedPeers" yaml:"signedPeers"`
}

// Hits are the matches of one pattern in one file.
type Hits struct {
	Count   int
	Offsets []int64
	// Samples are the matched bytes at the first offsets, shortened, for evidence.
	Samples []string
	// FirstLength is the length of the first match.
	FirstLength int
}

// Input is everything a rule can judge about one artifact.
type Input struct {
	Artifact Artifact
	// Trust is what verification established about the artifact (the zero value when
	// nothing was verified).
	Trust Trust
	// Facts are the analyzers' facts, keyed by analyzer name.
	Facts map[string]any
	// Hits are the pattern matches, keyed by PatternID. When nil, they are taken from
	// Facts[MatchesName], where MatchAnalyzer leaves them.
	Hits map[string]Hits
	// Failed names the analyzers that wanted the artifact but could not read it (their
	// errors are in the result). Rules reading their facts are not evaluated on it: its
	// facts are unknown, not zero, and the file is reported as not fully inspected.
	Failed map[string]bool
}

// PatternID names a rule's pattern in the set of every pattern of every rule.
func PatternID(rule, pattern string) string { return rule + "#" + pattern }

// Engine judges artifacts with compiled rules.
type Engine struct {
	rules     []*compiled
	analyzers []analyzers.Analyzer
	zero      map[string]any // analyzer name → zero facts, for files it did not look at
	set       *pattern.Set   // every pattern of every rule
	defs      []pattern.Def  // what set was compiled from
	// patternFormats are the formats some rule with patterns applies to.
	patternFormats map[string]bool
}

type compiled struct {
	*Rule
	severity result.Severity
	// prg judges; explain, made on the rule's first finding, runs again on the files
	// the rule flags and tracks the value of every subexpression, for the evidence.
	// Tracking them on every file took more time than the judging.
	prg      cel.Program
	explain  func() (cel.Program, error)
	ast      *celast.AST
	patterns []string // sorted names
	// patternIDs are the patterns' IDs in the matcher's hits (PatternID), in the order
	// of patterns; noHits is what the condition reads of a file none of them matched,
	// shared by all such files (conditions only read it).
	patternIDs []string
	noHits     ruleActivation
	formats    map[string]bool
	// quietWithoutHits: the condition reads nothing but the rule's patterns and is
	// false when none of them matched, so a file without a hit needs no evaluation.
	quietWithoutHits bool
}

// matchedAny reports whether any of the rule's patterns matched.
func (c *compiled) matchedAny(hits map[string]Hits) bool {
	if len(hits) == 0 {
		return false
	}
	for _, id := range c.patternIDs {
		if hits[id].Count > 0 {
			return true
		}
	}
	return false
}

// readsFailed reports whether the rule reads the facts of an analyzer in failed.
func (c *compiled) readsFailed(failed map[string]bool) bool {
	if len(failed) == 0 {
		return false
	}
	for _, r := range c.ast.ReferenceMap() {
		if r.Value == nil && failed[r.Name] {
			return true
		}
	}
	return false
}

// Compile prepares the rules of packs for evaluation, with the facts types of list. The
// error, if any, is an Errors naming each condition that did not compile with its file,
// line and column. Disabled rules are compiled (so that they stay correct) but not kept.
func Compile(packs []*Pack, list []analyzers.Analyzer) (*Engine, error) {
	env, err := newEnv(list)
	if err != nil {
		return nil, err
	}
	e := &Engine{analyzers: list, zero: map[string]any{}}
	for _, a := range list {
		if t := schemaType(a); t != nil {
			e.zero[a.Name()] = reflect.New(t).Interface()
		}
	}
	var errs Errors
	seen := map[string]*Rule{}
	for _, p := range packs {
		for _, r := range p.Rules {
			if prev := seen[r.ID.Value]; prev != nil {
				errs = append(errs, &Error{File: r.File, Pos: r.ID.Pos, Msg: fmt.Sprintf("rule %s is also defined at %s:%d", r.ID.Value, prev.File, prev.ID.Pos.Line)})
				continue
			}
			seen[r.ID.Value] = r
			if r.invalid {
				continue // LoadPack reported why
			}
			c, cerrs := compileRule(env, r)
			errs = append(errs, cerrs...)
			if c != nil && !r.Disabled {
				e.rules = append(e.rules, c)
			}
		}
	}
	for _, c := range e.rules {
		c.quietWithoutHits = e.quietWithoutHits(c)
	}
	e.patternFormats = map[string]bool{}
	for _, c := range e.rules {
		if len(c.patterns) > 0 {
			for f := range c.formats {
				e.patternFormats[f] = true
			}
		}
	}
	errs = append(errs, e.compilePatterns()...)
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

// quietWithoutHits reports whether c's condition reads none of the variables that
// describe a file (artifact, trust, the analyzers' facts), only its patterns, their
// counts and offsets, and is false when none of its patterns matched. Most rules are
// of this kind, and most files match none of their patterns: evaluating them anyway
// was most of the judging of an image.
func (e *Engine) quietWithoutHits(c *compiled) bool {
	if len(c.patterns) == 0 {
		return false
	}
	file := map[string]bool{"artifact": true, "trust": true}
	for _, a := range e.analyzers {
		file[a.Name()] = true
	}
	for _, r := range c.ast.ReferenceMap() {
		name, _, _ := strings.Cut(r.Name, ".")
		if file[name] {
			return false
		}
	}
	act := c.noHits
	act.facts = e.zero
	val, _, err := c.prg.Eval(&act)
	return err == nil && val == types.False
}

// schemaType is the struct type of an analyzer's facts.
func schemaType(a analyzers.Analyzer) reflect.Type {
	t := reflect.TypeOf(a.Schema())
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// newEnv declares the variables every condition sees.
func newEnv(list []analyzers.Analyzer) (*cel.Env, error) {
	natives := []any{reflect.TypeOf(Artifact{}), reflect.TypeOf(Trust{})}
	vars := []cel.EnvOption{
		cel.Variable("artifact", cel.ObjectType(reflect.TypeOf(Artifact{}).String())),
		cel.Variable("trust", cel.ObjectType(reflect.TypeOf(Trust{}).String())),
		cel.Variable("count", cel.MapType(cel.StringType, cel.IntType)),
		cel.Variable("offsets", cel.MapType(cel.StringType, cel.ListType(cel.IntType))),
	}
	for _, a := range list {
		t := schemaType(a)
		if t == nil {
			continue
		}
		natives = append(natives, t)
		vars = append(vars, cel.Variable(a.Name(), cel.ObjectType(t.String())))
	}
	natives = append(natives, ext.ParseStructTag("json"))
	opts := append([]cel.EnvOption{
		ext.NativeTypes(natives...),
		ext.Strings(),
		ext.Lists(),
		ext.Sets(),
		cel.CrossTypeNumericComparisons(true),
	}, vars...)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("declaring the facts to the rule language: %w", err)
	}
	return env, nil
}

// compileRule compiles one rule's condition with its patterns declared.
func compileRule(env *cel.Env, r *Rule) (*compiled, Errors) {
	c := &compiled{Rule: r, formats: map[string]bool{}}
	c.severity, _ = result.ParseSeverity(r.Severity.Value)
	for _, f := range r.AppliesTo.Value {
		c.formats[f] = true
	}
	var decls []cel.EnvOption
	for name := range r.Patterns.Value {
		c.patterns = append(c.patterns, name)
		decls = append(decls, cel.Variable(name, cel.BoolType))
	}
	sort.Strings(c.patterns)
	c.noHits = ruleActivation{counts: noCounts, offsets: noOffsets}
	if len(c.patterns) > 0 {
		c.noHits = ruleActivation{matched: map[string]bool{}, counts: map[string]int64{}, offsets: map[string][]int64{}}
	}
	for _, name := range c.patterns {
		c.patternIDs = append(c.patternIDs, PatternID(r.ID.Value, name))
		c.noHits.matched[name], c.noHits.counts[name], c.noHits.offsets[name] = false, 0, []int64{}
	}
	renv, err := env.Extend(decls...)
	if err != nil {
		return nil, Errors{{File: r.File, Pos: r.Patterns.Pos, Msg: err.Error()}}
	}
	checked, iss := renv.Compile(r.Condition.Value)
	if iss != nil && iss.Err() != nil {
		var errs Errors
		for _, ce := range iss.Errors() {
			errs = append(errs, &Error{File: r.File, Pos: r.conditionPos(ce), Msg: "condition: " + ce.Message})
		}
		return nil, errs
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, Errors{{File: r.File, Pos: r.Condition.Pos, Msg: fmt.Sprintf("condition: is a %s; it must be true or false", checked.OutputType())}}
	}
	c.prg, err = renv.Program(checked, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptOptimize), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, Errors{{File: r.File, Pos: r.Condition.Pos, Msg: "condition: " + err.Error()}}
	}
	c.explain = sync.OnceValues(func() (cel.Program, error) {
		return renv.Program(checked, cel.CostLimit(costLimit), cel.EvalOptions(cel.OptTrackState), cel.InterruptCheckFrequency(100))
	})
	c.ast = checked.NativeRep()
	return c, nil
}

// conditionPos maps a position in the condition's text to the rule file.
func (r *Rule) conditionPos(ce *common.Error) Pos {
	l := ce.Location
	if l == nil || l.Line() <= 0 {
		return r.Condition.Pos
	}
	p := r.Condition.Pos
	switch {
	case r.Condition.Block:
		// The text starts on the line after the "|", indented.
		return Pos{Line: p.Line + l.Line(), Column: r.Condition.Indent + l.Column() + 1}
	case l.Line() == 1:
		off := 0
		if r.Condition.Quoted {
			off = 1
		}
		return Pos{Line: p.Line, Column: p.Column + off + l.Column()}
	}
	return Pos{Line: p.Line + l.Line() - 1, Column: l.Column() + 1}
}

// Needs lists the analyzers whose facts some condition reads, so that a scan runs only
// those (and MatchAnalyzer when there are patterns).
func (e *Engine) Needs() []analyzers.Analyzer {
	used := map[string]bool{}
	for _, c := range e.rules {
		for _, r := range c.ast.ReferenceMap() {
			if r.Value == nil {
				used[r.Name] = true
			}
		}
	}
	// Analyzers that can place a pattern match in a section run when patterns do, so that
	// findings say where in a binary they matched.
	locate := len(e.patternFormats) > 0
	var out []analyzers.Analyzer
	for _, a := range e.analyzers {
		_, sections := a.Schema().(interface{ SectionAt(int64) string })
		if used[a.Name()] || (locate && sections) {
			if l, ok := a.(analyzers.Lister); ok && e.selects(a.Name()+"."+l.ListField()) {
				a = l.Listing()
			}
			out = append(out, a)
		}
	}
	return out
}

// selects reports whether a rule's condition selects the field path (strings.strings),
// or a field within it.
func (e *Engine) selects(path string) bool {
	found := false
	for _, c := range e.rules {
		celast.PostOrderVisit(celast.NavigateAST(c.ast), celast.NewExprVisitor(func(x celast.Expr) {
			if x.Kind() != celast.SelectKind {
				return
			}
			if text, ok := selectText(x); ok && (text == path || strings.HasPrefix(text, path+".")) {
				found = true
			}
		}))
	}
	return found
}

// Rules lists the rules the engine runs.
func (e *Engine) Rules() []*Rule {
	out := make([]*Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.Rule
	}
	return out
}

// Patterns lists every pattern of every rule the engine runs, for one scanning pass.
func (e *Engine) Patterns() []PatternDef {
	var out []PatternDef
	for _, c := range e.rules {
		for _, name := range c.patterns {
			s := c.Patterns.Value[name]
			out = append(out, PatternDef{ID: PatternID(c.ID.Value, name), Rule: c.Rule, Name: name, Spec: s.Value, Pos: s.Pos})
		}
	}
	return out
}

// PatternDef is one pattern of one rule.
type PatternDef struct {
	ID   string
	Rule *Rule
	Name string
	Spec Spec
	// Pos is where the pattern is written in the rule's file.
	Pos Pos
}

// Applies reports whether a rule looks at artifacts of this format.
func (c *compiled) applies(format string) bool { return c.formats["any"] || c.formats[format] }

// Evaluate runs every rule that applies to in.Artifact and returns the findings, and an
// error per rule whose condition could not be evaluated (a cost limit, a missing map key).
func (e *Engine) Evaluate(ctx context.Context, in *Input) ([]result.Finding, []error) {
	if in.Hits == nil {
		if ms, ok := in.Facts[MatchesName].(*pattern.Matches); ok {
			in.Hits = hitsOf(ms)
		}
	}
	var (
		findings []result.Finding
		errs     []error
	)
	act := e.activation(in)
	for _, c := range e.rules {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if !c.applies(in.Artifact.Format) || c.readsFailed(in.Failed) {
			continue
		}
		if c.quietWithoutHits && !c.matchedAny(in.Hits) {
			continue
		}
		f, err := e.evaluate(ctx, c, in, act)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", c.ID.Value, err))
			continue
		}
		if f != nil {
			findings = append(findings, *f)
		}
	}
	return findings, errs
}

// activation is what one artifact's conditions read: the artifact, the trust, and every
// analyzer's facts (its zero facts when it did not look at the file), the same for every
// rule.
func (e *Engine) activation(in *Input) map[string]any {
	act := make(map[string]any, len(e.zero)+2)
	act["artifact"], act["trust"] = &in.Artifact, &in.Trust
	for name, zero := range e.zero {
		if f, ok := in.Facts[name]; ok && f != nil {
			act[name] = f
		} else {
			act[name] = zero
		}
	}
	return act
}

// ruleActivation is what one rule's condition reads: the artifact's activation, under
// the rule's patterns (whether each matched) and their count and offsets maps.
type ruleActivation struct {
	facts   map[string]any
	matched map[string]bool
	counts  map[string]int64
	offsets map[string][]int64
}

var (
	noCounts  = map[string]int64{}
	noOffsets = map[string][]int64{}
)

func (r *ruleActivation) ResolveName(name string) (any, bool) {
	if m, ok := r.matched[name]; ok {
		return m, true
	}
	switch name {
	case "count":
		return r.counts, true
	case "offsets":
		return r.offsets, true
	}
	v, ok := r.facts[name]
	return v, ok
}

func (r *ruleActivation) Parent() interpreter.Activation { return nil }

func (e *Engine) evaluate(ctx context.Context, c *compiled, in *Input, facts map[string]any) (*result.Finding, error) {
	act := c.noHits
	act.facts = facts
	if c.matchedAny(in.Hits) {
		act.matched = make(map[string]bool, len(c.patterns))
		act.counts = make(map[string]int64, len(c.patterns))
		act.offsets = make(map[string][]int64, len(c.patterns))
		for i, name := range c.patterns {
			h := in.Hits[c.patternIDs[i]]
			act.matched[name] = h.Count > 0
			act.counts[name] = int64(h.Count)
			act.offsets[name] = h.Offsets
			if h.Offsets == nil {
				act.offsets[name] = []int64{}
			}
		}
	}
	val, _, err := c.prg.ContextEval(ctx, &act)
	if err != nil {
		return nil, err
	}
	if val != types.True {
		return nil, nil
	}
	explain, err := c.explain()
	if err != nil {
		return nil, err
	}
	val, det, err := explain.ContextEval(ctx, &act)
	if err != nil {
		return nil, err
	}
	if val != types.True {
		return nil, fmt.Errorf("the condition was true, then %v on the same facts", val)
	}
	f := &result.Finding{
		Rule:     c.ID.Value,
		Severity: c.severity,
		Path:     in.Artifact.Path,
		Message:  c.Title,
	}
	for i, name := range c.patterns {
		h := in.Hits[c.patternIDs[i]]
		if h.Count == 0 {
			continue
		}
		ev := fmt.Sprintf("pattern %s: %d match", name, h.Count)
		if h.Count != 1 {
			ev += "es"
		}
		if len(h.Offsets) > 0 {
			ev += fmt.Sprintf(", first at offset %d", h.Offsets[0])
			f.Matches = append(f.Matches, result.Match{Pattern: name, Offset: h.Offsets[0], Length: h.FirstLength, Section: sectionAt(in.Facts, h.Offsets[0])})
		}
		if len(h.Samples) > 0 {
			if c.Redact {
				ev += ": " + redact(h.Samples[0])
			} else {
				ev += ": " + strconv.Quote(shorten(h.Samples[0]))
			}
		}
		f.Evidence = append(f.Evidence, ev)
	}
	if det != nil && det.State() != nil {
		f.Evidence = append(f.Evidence, factEvidence(c, det.State(), func(root string) bool {
			_, ok := e.zero[root]
			return ok || root == "artifact" || root == "trust"
		})...)
	}
	if len(f.Evidence) > maxEvidence {
		f.Evidence = append(f.Evidence[:maxEvidence], fmt.Sprintf("… %d more", len(f.Evidence)-maxEvidence))
	}
	return f, nil
}

// sectionAt names the section of a binary that holds offset off, from whichever facts
// can tell.
func sectionAt(facts map[string]any, off int64) string {
	for _, f := range facts {
		if s, ok := f.(interface{ SectionAt(int64) string }); ok {
			if name := s.SectionAt(off); name != "" {
				return name
			}
		}
	}
	return ""
}

// factEvidence quotes the facts the condition read, with the values they had: every
// outermost field selection (elf.relro, pe.dllCharacteristics.aslr) of a variable fact
// accepts whose value was computed. Selections on a macro's loop variable (s.name
// inside exists) are left out: their last value says nothing.
func factEvidence(c *compiled, state interface{ Value(int64) (ref.Val, bool) }, fact func(root string) bool) []string {
	var out []string
	seen := map[string]bool{}
	celast.PostOrderVisit(celast.NavigateAST(c.ast), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.SelectKind {
			return
		}
		nav, ok := e.(celast.NavigableExpr)
		if !ok {
			return
		}
		if p, ok := nav.Parent(); ok && p.Kind() == celast.SelectKind {
			return // only the outermost selection of a chain
		}
		text, ok := selectText(e)
		if !ok || seen[text] || slices.Contains(c.patterns, text) {
			return
		}
		if root, _, _ := strings.Cut(text, "."); !fact(root) {
			return
		}
		v, ok := state.Value(e.ID())
		if !ok || v == nil || types.IsError(v) || types.IsUnknown(v) {
			return
		}
		seen[text] = true
		out = append(out, text+" = "+shorten(valueText(v)))
	}))
	return out
}

// selectText writes a chain of selections as the author wrote it.
func selectText(e celast.Expr) (string, bool) {
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent(), true
	case celast.SelectKind:
		s := e.AsSelect()
		op, ok := selectText(s.Operand())
		if !ok {
			return "", false
		}
		return op + "." + s.FieldName(), true
	}
	return "", false
}

// valueText writes a CEL value compactly.
func valueText(v ref.Val) string {
	switch v.Type() {
	case types.StringType:
		return strconv.Quote(v.Value().(string))
	case types.ListType:
		l := v.(interface{ Size() ref.Val })
		return fmt.Sprintf("[%d items]", l.Size().Value())
	case types.MapType:
		return "{…}"
	}
	if _, ok := v.Value().(reflect.Value); ok {
		return "{…}"
	}
	switch x := v.Value().(type) {
	case bool, int64, uint64, float64:
		return fmt.Sprint(x)
	}
	if v.Type().TypeName() != "" && strings.Contains(v.Type().TypeName(), ".") {
		return "{…}"
	}
	return fmt.Sprint(v.Value())
}

// redact shows what kind of secret matched without showing it: its first four
// characters and its length.
func redact(s string) string {
	r := []rune(s)
	if len(r) <= 8 {
		return fmt.Sprintf("(redacted, %d characters)", len(r))
	}
	return fmt.Sprintf("%q… (redacted, %d characters)", string(r[:4]), len(r))
}

func shorten(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	return s[:maxValueLen] + "…"
}
