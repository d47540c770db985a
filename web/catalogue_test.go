package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"zonevet/rules/catalog"
)

// messageID is what a catalogue id looks like: dotted lower-case words.
var messageID = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// fileName is a literal that names a file ("audit.jsonl"), not a message.
var fileName = regexp.MustCompile(`\.(jsonl?|csv|ya?ml|xlsx|html|go|db|pem|key|txt|png|sql|lock)$`)

// templateID finds the ids a template renders: {{tr $lang "id"}}, {{.T "id"}}, {{$p.T "id" …}}.
var templateID = regexp.MustCompile(`(?:\btr\s+[$.\w]+|[$\w]*\.T)\s+"([^"]+)"`)

// TestCatalogueIDsExist guards the one i18n mechanism: every message id the
// code or the templates name is defined in the catalogue (zh-CN and en, with
// the same placeholders — catalog.New refuses anything else). In Go source
// every string literal shaped like an id whose first word is one of the
// catalogue's prefixes counts as a use, so ids kept in tables and passed
// through variables are checked too, not only literal arguments.
func TestCatalogueIDsExist(t *testing.T) {
	tr, err := newTranslator()
	if err != nil {
		t.Fatal(err)
	}
	prefixes := catalogPrefixes(t)
	used := map[string][]string{} // id → where
	fset := token.NewFileSet()
	for _, dir := range []string{"../engine", "../rules", "../store", "../cmd", "."} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !messageID.MatchString(s) || !prefixes[strings.SplitN(s, ".", 2)[0]] || fileName.MatchString(s) {
					return true
				}
				used[s] = append(used[s], fset.Position(lit.Pos()).String())
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		buf, _ := fs.ReadFile(templateFS, p)
		for _, m := range templateID.FindAllStringSubmatch(string(buf), -1) {
			used[m[1]] = append(used[m[1]], p)
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d ids in use; the scan is broken", len(used))
	}
	for id, where := range used {
		if !tr.Has(id) {
			t.Errorf("%s is used (%s) but not in the catalogue", id, strings.Join(where, ", "))
		}
	}
}

// catalogPrefixes are the first words of every defined id ("err", "state", …).
func catalogPrefixes(t *testing.T) map[string]bool {
	t.Helper()
	prefixes := map[string]bool{}
	for _, fsys := range []fs.FS{catalog.Files(), localeFS} {
		names, _ := fs.Glob(fsys, "locales/*.en.json")
		en, _ := fs.Glob(fsys, "locales/en.json")
		for _, f := range append(names, en...) {
			buf, err := fs.ReadFile(fsys, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range regexp.MustCompile(`"([a-z][a-z0-9_]*)\.[^"]*"\s*:`).FindAllStringSubmatch(string(buf), -1) {
				prefixes[m[1]] = true
			}
		}
	}
	return prefixes
}

// TestCatalogueRejectsUnpairedPlaceholders: a message whose English drops a
// placeholder the Chinese uses would show "<no value>" or lose a figure, so
// the catalogue refuses to load.
func TestCatalogueRejectsUnpairedPlaceholders(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "locales"), 0o755)
	os.WriteFile(filepath.Join(dir, "locales/x.zh-CN.json"), []byte(`{"x.a": "版本 {{.Have}} 已过期"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "locales/x.en.json"), []byte(`{"x.a": "version is stale"}`), 0o644)
	if _, err := catalog.New(os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "x.a") {
		t.Fatalf("got %v, want a refusal naming x.a", err)
	}
	os.WriteFile(filepath.Join(dir, "locales/x.en.json"), []byte(`{"x.a": "version {{.Have}} is stale"}`), 0o644)
	if _, err := catalog.New(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "locales/x.en.json"), []byte(`{"x.b": "version {{.Have}} is stale"}`), 0o644)
	if _, err := catalog.New(os.DirFS(dir)); err == nil {
		t.Fatal("an id in one language only was accepted")
	}
}

// TestNoInlineLanguagePairs keeps the catalogue the one i18n mechanism: a
// template may pick between two names the data carries (.NameZH .NameEN) but
// not between two literal texts, and Go code may not hand pickLang literal
// text (nor build it from literals); such wording belongs in locales/*.json
// under an id, where TestCatalogueIDsExist and the partner check see it.
func TestNoInlineLanguagePairs(t *testing.T) {
	literalPick := regexp.MustCompile(`\bpick\s+[$.\w]+\s+"`)
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		buf, _ := fs.ReadFile(templateFS, p)
		for _, m := range literalPick.FindAllIndex(buf, -1) {
			t.Errorf("%s:%d: pick with literal text; use {{tr $lang \"page.…\"}}", p, 1+strings.Count(string(buf[:m[0]]), "\n"))
		}
	}
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "pickLang" {
				return true
			}
			for _, arg := range call.Args[1:] {
				ast.Inspect(arg, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						t.Errorf("%s: pickLang with literal text %s; use a catalogue id", fset.Position(lit.Pos()), lit.Value)
					}
					return true
				})
			}
			return true
		})
	}
}
