package web

import (
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// checkLocalePairs reads every embedded message file the way newTranslator
// does and checks each zh-CN file against its English partner, both ways:
// locales/zh-CN.json ↔ locales/en.json and locales/<area>.zh-CN.json ↔
// locales/<area>.en.json. An id in one language only shows as a raw id to
// the other's readers; an id defined in two files of one language is
// silently overridden by whichever loads last.
func checkLocalePairs(t *testing.T) {
	t.Helper()
	files, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no message files: %v", err)
	}
	ids := map[string]map[string]bool{} // file → ids
	owner := map[string]string{}        // "lang id" → file that defines it
	for _, f := range files {
		buf, err := fs.ReadFile(localeFS, f)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := i18n.ParseMessageFileBytes(buf, f, map[string]i18n.UnmarshalFunc{"json": json.Unmarshal})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if lang := mf.Tag.String(); lang != "zh-CN" && lang != "en" {
			t.Errorf("%s: language %q, want zh-CN or en", f, lang)
		}
		ids[f] = map[string]bool{}
		for _, m := range mf.Messages {
			ids[f][m.ID] = true
			if strings.TrimSpace(m.Other) == "" {
				t.Errorf("%s: %s is empty", f, m.ID)
			}
			key := mf.Tag.String() + " " + m.ID
			if prev, dup := owner[key]; dup {
				t.Errorf("%s is defined in both %s and %s", m.ID, prev, f)
			}
			owner[key] = f
		}
	}
	pairs := 0
	for f := range ids {
		base := path.Base(f)
		if !strings.HasSuffix(base, "zh-CN.json") {
			if !strings.HasSuffix(base, "en.json") {
				continue
			}
			if zh := path.Join("locales", strings.TrimSuffix(base, "en.json")+"zh-CN.json"); ids[zh] == nil {
				t.Errorf("%s has no Chinese partner %s", f, zh)
			}
			continue
		}
		en := path.Join("locales", strings.TrimSuffix(base, "zh-CN.json")+"en.json")
		if ids[en] == nil {
			t.Errorf("%s has no English partner %s", f, en)
			continue
		}
		pairs++
		var onlyZH, onlyEN []string
		for id := range ids[f] {
			if !ids[en][id] {
				onlyZH = append(onlyZH, id)
			}
		}
		for id := range ids[en] {
			if !ids[f][id] {
				onlyEN = append(onlyEN, id)
			}
		}
		sort.Strings(onlyZH)
		sort.Strings(onlyEN)
		if len(onlyZH) > 0 {
			t.Errorf("%s lacks %d ids %s has: %v", en, len(onlyZH), f, onlyZH)
		}
		if len(onlyEN) > 0 {
			t.Errorf("%s lacks %d ids %s has: %v", f, len(onlyEN), en, onlyEN)
		}
	}
	if pairs == 0 {
		t.Error("no zh-CN/en pair of message files compared")
	}
}
