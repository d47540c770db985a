package catalog

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// placeholder is a named argument in a message: {{.Name}}.
var placeholder = regexp.MustCompile(`{{\s*\.([A-Za-z0-9_]+)`)

// Placeholders lists the distinct argument names text uses, sorted.
func Placeholders(text string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// check verifies one file system's message files as a set: every
// locales/<area>.zh-CN.json has a locales/<area>.en.json partner with the
// same ids, each message uses the same placeholders in both languages, no
// message is empty, and no id is defined twice in one language (the later
// file would silently win). A reader of either language then never sees a
// raw id or a "<no value>".
func check(fsys fs.FS) error {
	names, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return err
	}
	type file struct{ msgs map[string]string }
	byName := map[string]file{}
	owner := map[string]string{} // "lang id" → file
	var problems []string
	for _, f := range names {
		buf, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		mf, err := i18n.ParseMessageFileBytes(buf, f, map[string]i18n.UnmarshalFunc{"json": json.Unmarshal})
		if err != nil {
			return err
		}
		tag := mf.Tag.String()
		if tag != "zh-CN" && tag != "en" {
			problems = append(problems, fmt.Sprintf("%s: language %q, want zh-CN or en", f, tag))
		}
		msgs := map[string]string{}
		for _, m := range mf.Messages {
			if strings.TrimSpace(m.Other) == "" {
				problems = append(problems, fmt.Sprintf("%s: %s is empty", f, m.ID))
			}
			key := tag + " " + m.ID
			if prev, dup := owner[key]; dup {
				problems = append(problems, fmt.Sprintf("%s is defined in both %s and %s", m.ID, prev, f))
			}
			owner[key] = f
			msgs[m.ID] = m.Other
		}
		byName[path.Base(f)] = file{msgs}
	}
	for base, zh := range byName {
		area, ok := strings.CutSuffix(base, "zh-CN.json")
		if !ok {
			if area, ok := strings.CutSuffix(base, "en.json"); ok {
				if _, has := byName[area+"zh-CN.json"]; !has {
					problems = append(problems, base+" has no Chinese partner")
				}
			}
			continue
		}
		en, has := byName[area+"en.json"]
		if !has {
			problems = append(problems, base+" has no English partner")
			continue
		}
		for id, text := range zh.msgs {
			other, ok := en.msgs[id]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s has no English", base, id))
				continue
			}
			if a, b := Placeholders(text), Placeholders(other); !slices.Equal(a, b) {
				problems = append(problems, fmt.Sprintf("%s: %s uses %v in zh-CN but %v in en", base, id, a, b))
			}
		}
		for id := range en.msgs {
			if _, ok := zh.msgs[id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %s has no Chinese", area+"en.json", id))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("catalog: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Message is a message id with its arguments, kept until the reader's
// language is known (a rule-set problem, an input error).
type Message struct {
	ID   string `json:"id"`
	Args Args   `json:"args,omitempty"`
}

// Text renders m in lang with the default catalogue.
func (m Message) Text(lang string) string { return T(lang, m.ID, m.Args) }

// Both renders m in Chinese and in English, for a record that keeps its
// words as they were said (a log entry's diff, an alert's text_zh/text_en).
func (m Message) Both() (zh, en string) { return m.Text(ZH), m.Text(EN) }

// Text is a name given in both languages by data rather than the catalogue
// (a rule set's metric, a figure's label); as an argument it is rendered in
// the reader's language.
type Text struct{ ZH, EN string }

// In returns t in lang.
func (t Text) In(lang string) string {
	if lang == EN && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// List is an argument made of several items — Messages, Texts or plain
// values — each rendered in the reader's language and joined with that
// language's separator (SepZH, SepEN; "、" and ", " when empty): the blank
// figures of a project, every problem of a form at once.
type List struct {
	Items        []any
	SepZH, SepEN string
}
