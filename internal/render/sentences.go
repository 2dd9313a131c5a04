package render

import (
	"regexp"
	"strings"
)

// The sentences `kensa accept` writes under "not checked".
const (
	NoSignature    = "no signature or checksum manifest of the delivery was verified"
	NoProvenance   = "no build provenance was verified"
	NoVendorSBOM   = "no vendor SBOM was given (sbom.vendor): the components were listed, not reconciled"
	NoManifest     = "no manifest of the delivered files was declared (declarations.manifest)"
	NoDestinations = "no network destinations were declared (declarations.networkDestinations): every one found is a finding"
	NoBaseline     = "no baseline: the delivery was not compared with a previously accepted release"
)

// notCheckedJA are their Japanese forms.
var notCheckedJA = map[string]string{
	NoSignature:    "納品物の署名もチェックサム一覧も検証していません",
	NoProvenance:   "ビルドの来歴 (provenance) を検証していません",
	NoVendorSBOM:   "ベンダーの SBOM が指定されていません (sbom.vendor)。構成品目は列挙しましたが、突き合わせていません",
	NoManifest:     "納品ファイルの一覧 (ダイジェスト付き) が宣言されていません (declarations.manifest)",
	NoDestinations: "通信先が宣言されていません (declarations.networkDestinations)。見つかった通信先はすべて検出事項になります",
	NoBaseline:     "ベースラインがありません。前回検収したリリースとの比較をしていません",
}

var severityJA = map[string]string{"critical": "重大", "high": "高", "medium": "中", "low": "低", "info": "情報"}

// reasonFrames match the sentences `kensa accept` gives as reasons for a FAIL; the
// Japanese form keeps the parts that come from rules, checks and the delivery as they are.
var reasonFrames = []struct {
	re *regexp.Regexp
	ja func(m []string) string
}{
	{regexp.MustCompile(`^(critical|high|medium|low|info) finding (\S+): (.*?)((?: \(the waiver approved by .+? expired on \S+ and no longer applies\))*)$`), func(m []string) string {
		s := "重大度「" + severityJA[m[1]] + "」の検出事項 " + m[2] + ": " + m[3]
		for _, w := range waiverExpired.FindAllStringSubmatch(m[4], -1) {
			s += "（" + w[1] + " が承認した免除は " + w[2] + " に期限が切れ、適用されません）"
		}
		return s
	}},
	{regexp.MustCompile(`^check (\S+) failed for (.+?): (.*)$`), func(m []string) string {
		return "検証 " + m[1] + " が不合格 (" + m[2] + "): " + m[3]
	}},
	{regexp.MustCompile(`^check (\S+) could not be decided for (.+?): (.*)$`), func(m []string) string {
		return "検証 " + m[1] + " を判定できません (" + m[2] + "): " + m[3]
	}},
	{regexp.MustCompile(`^(.+) could not be inspected \((\w+)\): (.*)$`), func(m []string) string {
		return m[1] + " を検査できませんでした (" + m[2] + "): " + m[3]
	}},
}

var waiverExpired = regexp.MustCompile(` \(the waiver approved by (.+?) expired on (\S+) and no longer applies\)`)

// sentence gives a reason or a not-checked sentence in the report's language. Messages
// of rules and checks inside a reason stay as the rule or check wrote them.
func sentence(lang, s string) string {
	if lang != Japanese {
		return s
	}
	if ja, ok := notCheckedJA[s]; ok {
		return ja
	}
	for _, f := range reasonFrames {
		if m := f.re.FindStringSubmatch(s); m != nil {
			return f.ja(m)
		}
	}
	return strings.TrimSpace(s)
}
