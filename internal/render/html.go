package render

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"kensa.dev/kensa/internal/limits"
	"kensa.dev/kensa/internal/result"
)

// Languages of the HTML report.
const (
	English  = "en"
	Japanese = "ja"
)

// ReportExtras is what the HTML report shows beside the result.
type ReportExtras struct {
	// Lang is English or Japanese.
	Lang string
	// Components counts the SBOM's components by type.
	Components map[string]int
	// Executables and Unaccounted count the delivery's executables and those no
	// package accounts for.
	Executables, Unaccounted int
	// Generated is when the report was made.
	Generated time.Time
}

//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"t":     func(lang, key string) string { return translate(lang, key) },
	"size":  func(n int64) string { return limits.HumanSize(n) },
	"upper": strings.ToUpper,
	"short": short,
	"say":   sentence,
	"safe":  safe,
}).Parse(reportTemplate))

// HTML writes the acceptance report: one self-contained page (no script, no external
// resource, charts as inline SVG) for the people who sign off, readable on screen and
// printed. Everything from the delivery goes through html/template's escaping, and
// control and format characters in it (which could reorder what a cell shows, or drive a
// terminal the page is printed on) are shown as escapes.
func HTML(w io.Writer, res *result.Result, x ReportExtras) error {
	if x.Lang != Japanese {
		x.Lang = English
	}
	type group struct {
		Severity result.Severity
		Findings []result.Finding
	}
	var groups []group
	for _, sev := range []result.Severity{result.Critical, result.High, result.Medium, result.Low, result.Info} {
		var fs []result.Finding
		for _, f := range res.Findings {
			if f.Severity == sev {
				fs = append(fs, f)
			}
		}
		if len(fs) > 0 {
			groups = append(groups, group{sev, fs})
		}
	}
	checkCounts := map[string]int{}
	for _, c := range res.Checks {
		checkCounts[c.Status]++
	}
	type kv struct {
		Key   string
		Count int
	}
	var comps []kv
	for k, n := range x.Components {
		comps = append(comps, kv{k, n})
	}
	slices.SortFunc(comps, func(a, b kv) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key)) })
	var waivers []result.Finding
	for _, f := range res.Findings {
		if f.Waiver != nil {
			waivers = append(waivers, f)
		}
	}
	var files []result.Artifact
	for _, a := range res.Artifacts {
		if a.Hidden == "" && (a.Type == "file" || a.Type == "hardlink") {
			files = append(files, a)
		}
	}
	severities := []string{"critical", "high", "medium", "low", "info"}
	var baselineChanges []int
	if res.Baseline != nil {
		for _, sev := range severities {
			baselineChanges = append(baselineChanges, res.Baseline.Changes[sev])
		}
	}
	data := map[string]any{
		"Severities": severities, "BaselineChanges": baselineChanges,
		"Lang": x.Lang, "R": res, "Groups": groups, "Files": files, "Waivers": waivers,
		"Components": comps, "Executables": x.Executables, "Unaccounted": x.Unaccounted,
		"Generated":   x.Generated.UTC().Format(time.RFC3339),
		"FindingsSVG": barChart(severityBars(res.Findings)),
		"ChecksSVG": barChart([]bar{
			{"pass", checkCounts[result.Pass], "#2e7d32"}, {"fail", checkCounts[result.Fail], "#c62828"},
			{"error", checkCounts[result.Erred], "#ef6c00"}, {"skip", checkCounts[result.Skip], "#757575"}}),
	}
	return reportTmpl.Execute(w, data)
}

type bar struct {
	Label string
	Value int
	Color string
}

func severityBars(fs []result.Finding) []bar {
	n := map[result.Severity]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	return []bar{{"critical", n[result.Critical], "#b71c1c"}, {"high", n[result.High], "#e53935"},
		{"medium", n[result.Medium], "#fb8c00"}, {"low", n[result.Low], "#fdd835"}, {"info", n[result.Info], "#90a4ae"}}
}

// barChart draws horizontal bars as inline SVG; labels are fixed words and numbers only.
func barChart(bars []bar) template.HTML {
	maxV := 1
	for _, b := range bars {
		maxV = max(maxV, b.Value)
	}
	var sb strings.Builder
	h := len(bars)*22 + 4
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="360" height="%d" role="img">`, h)
	for i, b := range bars {
		y := i*22 + 2
		w := 0
		if b.Value > 0 {
			w = max(2, b.Value*240/maxV)
		}
		fmt.Fprintf(&sb, `<text x="0" y="%d" font-size="12">%s</text><rect x="70" y="%d" width="%d" height="16" fill="%s"/><text x="%d" y="%d" font-size="12">%d</text>`,
			y+13, template.HTMLEscapeString(b.Label), y, w, b.Color, 76+w, y+13, b.Value)
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

var translations = map[string][2]string{ // key: {en, ja}
	"title":          {"Acceptance report", "検収報告書"},
	"verdict":        {"Verdict", "判定"},
	"pass":           {"PASS — accepted", "合格"},
	"fail":           {"FAIL — not accepted", "不合格"},
	"delivery":       {"Delivery", "納品物"},
	"digest":         {"Digest", "ダイジェスト"},
	"policy":         {"Policy", "検収ポリシー"},
	"default":        {"built-in default policy", "組み込みの既定ポリシー"},
	"failon":         {"fails at", "不合格とする重大度"},
	"tool":           {"Tool", "ツール"},
	"generated":      {"Generated", "作成日時"},
	"reasons":        {"Reasons for the verdict", "不合格の理由"},
	"notchecked":     {"Not checked", "確認していない事項"},
	"checks":         {"Checks", "検証"},
	"findings":       {"Findings", "検出事項"},
	"nofindings":     {"No findings.", "検出事項はありません。"},
	"nochecks":       {"No signature, provenance or checksum claim was checked.", "署名・来歴・チェックサムの検証はありません。"},
	"status":         {"Status", "結果"},
	"check":          {"Check", "検証項目"},
	"subject":        {"Subject", "対象"},
	"detail":         {"Detail", "詳細"},
	"rule":           {"Rule", "ルール"},
	"file":           {"File", "ファイル"},
	"message":        {"Finding", "内容"},
	"evidence":       {"Evidence", "根拠"},
	"waived":         {"Waived", "免除"},
	"waivers":        {"Waivers used", "適用した免除"},
	"reason":         {"Reason", "理由"},
	"approver":       {"Approver", "承認者"},
	"expires":        {"Expires", "有効期限"},
	"sbom":           {"Components (SBOM)", "構成品目 (SBOM)"},
	"type":           {"Type", "種類"},
	"count":          {"Count", "件数"},
	"executables":    {"executables", "実行ファイル"},
	"unaccounted":    {"not accounted for by any component", "どの構成品目にも属さない"},
	"files":          {"Delivered files", "納品ファイル一覧"},
	"size":           {"Size", "サイズ"},
	"format":         {"Format", "形式"},
	"errors":         {"Not inspected", "検査できなかったもの"},
	"severity":       {"Severity", "重大度"},
	"artifacts":      {"artifacts", "件"},
	"sign":           {"Accepted by", "検収担当者"},
	"baseline":       {"Changes since the accepted release", "前回検収したリリースからの変更"},
	"baselinefile":   {"Baseline", "ベースライン"},
	"baselinetarget": {"Accepted delivery", "前回検収した納品物"},
	"changes":        {"Changes by risk", "リスク別の変更件数"},
	"baselinenote":   {"Every change, ranked by risk, is in diff.html beside this report; those at medium risk and above are listed with the findings (rule baseline/…).", "すべての変更はリスク順に本報告書と同じ場所の diff.html にあります。リスク中以上の変更は検出事項 (ルール baseline/…) に含めています。"},
	"date":           {"Date", "日付"},
}

func translate(lang, key string) string {
	t, ok := translations[key]
	if !ok {
		return key
	}
	if lang == Japanese {
		return t[1]
	}
	return t[0]
}
