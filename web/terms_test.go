package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"zonevet/rules/catalog"

	"zonevet/rules"
)

// policyTerms are the words official documents use, each with the ones the
// Chinese UI must not use instead. Sources: 《固定资产投资项目节能审查办法》
// (节能报告, 节能审查意见; 吨标准煤), 《工业项目建设用地控制指标》
// (行政办公及生活服务设施用地所占比重), 广东省亩均效益评价 and the parks'
// rules (研发经费投入强度; A/B/C/D 类; 限期整改), 《闲置土地处置办法》
// (征缴土地闲置费), and the 生态环境分区管控 notices (三线一单).
//
// A file is checked with every preferred form cut out first, so that
// "土地闲置费" does not count as the bare "闲置费".
var policyTerms = []struct {
	preferred string
	forbidden *regexp.Regexp
}{
	{"节能报告/节能审查意见", regexp.MustCompile(`节能评估`)},
	{"吨标准煤/年", regexp.MustCompile(`tce\s*/\s*年|吨标煤`)},
	{"行政办公及生活服务设施用地所占比重", regexp.MustCompile(`行政办公及生活服务设施用地(占比|比例|比重)|行政办公用地(占比|比例|比重)`)},
	{"研发经费投入强度", regexp.MustCompile(`研发投入强度|研发强度`)},
	{"A/B/C/D 类", regexp.MustCompile(`[A-DT]\s*档|[A-D]\s*级企业`)},
	{"限期整改", regexp.MustCompile(`责令整改`)},
	{"征缴土地闲置费", regexp.MustCompile(`征收(土地)?闲置费|闲置费`)},
	{"生态环境分区管控(三线一单)", regexp.MustCompile(`三线一单`)},
}

// zhOnly are the terms wrong in Chinese text only: English keeps tce/yr.
var zhOnly = []struct {
	preferred string
	forbidden *regexp.Regexp
}{
	{"吨标准煤", regexp.MustCompile(`tce`)},
}

// offendingTerms lists "forbidden → preferred" for each wrong term in text.
func offendingTerms(text string, zh bool) []string {
	var out []string
	check := func(preferred string, re *regexp.Regexp) {
		cut := text
		for _, t := range policyTerms {
			cut = strings.ReplaceAll(cut, t.preferred, "")
		}
		cut = strings.ReplaceAll(cut, "土地闲置费", "")
		if m := re.FindString(cut); m != "" {
			out = append(out, m+" → "+preferred)
		}
	}
	for _, t := range policyTerms {
		check(t.preferred, t.forbidden)
	}
	if zh {
		for _, t := range zhOnly {
			check(t.preferred, t.forbidden)
		}
	}
	return out
}

// pickArgs keeps the Chinese argument of {{pick $lang "中文" "English"}}, so a
// template is checked on its Chinese text only.
var pickArgs = regexp.MustCompile(`pick \$lang "((?:[^"\\]|\\.)*)" "(?:[^"\\]|\\.)*"`)

// englishYAML is a rule set's English value (name_en: …, measure_en: …).
var englishYAML = regexp.MustCompile(`\b\w+_en:[^,\n}]*`)

// TestTermsAsPolicyWrites: the Chinese templates, locale files and the
// default rule sets (all embedded) use the policy's terms.
func TestTermsAsPolicyWrites(t *testing.T) {
	files := map[string]string{}
	for _, dir := range []struct {
		fsys fs.FS
		glob string
	}{{templateFS, "templates/*.html"}, {localeFS, "locales/*.json"}, {catalog.Files(), "locales/*.json"}} {
		names, err := fs.Glob(dir.fsys, dir.glob)
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: %v (%d files)", dir.glob, err, len(names))
		}
		for _, n := range names {
			b, err := fs.ReadFile(dir.fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			if dir.fsys == catalog.Files() {
				n = "rules/catalog/" + n // beside the web's own locales/ files
				b = withoutStoredRunTerms(t, n, b)
			}
			files[n] = string(b)
		}
	}
	for _, park := range rules.DefaultParks() {
		rs, err := rules.Default(park)
		if err != nil {
			t.Fatal(err)
		}
		files["rules/parks/"+park+".yaml"] = string(rs.Source())
	}
	for name, text := range files {
		zh := true
		switch {
		case strings.HasSuffix(name, ".html"):
			text = pickArgs.ReplaceAllString(text, "$1")
		case strings.HasSuffix(name, ".yaml"):
			// English names may cite a Chinese term in brackets, and
			// the files' comments explain units in English too.
			text, zh = englishYAML.ReplaceAllString(text, ""), false
		case strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, "zh-CN.json"):
			continue // English
		}
		for _, bad := range offendingTerms(text, zh) {
			t.Errorf("%s: %s", name, bad)
		}
	}
}

// storedRunTerms are catalogue entries that keep an old term on purpose:
// ratings stored under rule sets from before the terms were aligned must
// recompute byte for byte (see rules.RuleSet.rdTerm).
var storedRunTerms = map[string]bool{"reason.rd_term_old": true}

// withoutStoredRunTerms drops the storedRunTerms entries from a catalogue
// file, so the rest of it is still checked.
func withoutStoredRunTerms(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	var entries map[string]string
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for id := range storedRunTerms {
		delete(entries, id)
	}
	out, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTermsCheckCatches: the check itself finds each forbidden term and
// lets the preferred forms through.
func TestTermsCheckCatches(t *testing.T) {
	for _, bad := range []string{"节能评估报告", "综合能耗 500 tce/年", "行政办公及生活服务设施用地占比", "研发投入强度", "评为 D 档",
		"责令整改", "征收闲置费", "不符合“三线一单”"} {
		if len(offendingTerms(bad, false)) == 0 {
			t.Errorf("%q passes", bad)
		}
	}
	good := "节能报告/节能审查意见 1000 吨标准煤/年 行政办公及生活服务设施用地所占比重 研发经费投入强度 A/B/C/D 类 D 类 限期整改 征缴土地闲置费 生态环境分区管控(三线一单) 立项审查档案"
	if got := offendingTerms(good, true); len(got) != 0 {
		t.Errorf("preferred terms flagged: %v", got)
	}
	if got := offendingTerms(`{{pick $lang "综合能耗" "Energy (tce/yr)"}}`, true); len(got) == 0 {
		t.Error("a template is checked whole; the caller keeps only the Chinese argument")
	}
	if got := pickArgs.ReplaceAllString(`{{pick $lang "综合能耗" "Energy (tce/yr)"}}`, "$1"); strings.Contains(got, "tce") {
		t.Errorf("pickArgs kept the English: %q", got)
	}
}
