package web

import (
	"fmt"
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
// not between two literal texts, and Go code in any package may not word a
// text twice by hand (see inlinePairs); such wording belongs in
// locales/*.json under an id, where TestCatalogueIDsExist and the partner
// check see it.
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
	n := 0
	params := map[string]map[string][]string{} // package dir → its functions' parameters
	for _, dir := range []string{"../engine", "../rules", "../store", "../cmd", "."} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			n++
			name := filepath.ToSlash(filepath.Join("web", path)) // web/../rules/x.go is rules/x.go
			pkg := filepath.Dir(path)
			if params[pkg] == nil {
				params[pkg] = packageParams(t, pkg)
			}
			found := inlinePairs(t, path, src, params[pkg])
			switch known := knownInlinePairs[name]; {
			case len(found) > known:
				for _, p := range found {
					t.Error(p)
				}
			case len(found) < known:
				t.Errorf("%s: %d inline pairs left, knownInlinePairs says %d: lower it", name, len(found), known)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 100 {
		t.Fatalf("scanned only %d Go files; the walk is broken", n)
	}
}

// knownInlinePairs are the inline pairs (literals found by inlinePairs) that
// issue 18 has not moved to the catalogue yet, by file: none are left. A file
// may not gain one, and a file that loses some must lower its number, so the
// list only shrinks.
var knownInlinePairs = map[string]int{}

// inlinePairs finds, in one Go file, text a person reads worded in both
// languages by hand rather than by a catalogue id:
//   - literal text handed to pickLang;
//   - literal text given to a language's half of a pair — a field, variable
//     or key named ZH/EN or …ZH/…EN/…Zh/…En (TextZH, LevelEN, catalog.Text{ZH: …}),
//     or zh/en — in a composite literal, an assignment or a declaration;
//   - a translation table: a map literal from Chinese to English text;
//   - literal text handed to a function's zh or en parameter (any function of
//     the package: checkTextLength(field, nameZH, nameEN, …)), or returned by
//     a function named …ZH/…EN (passZH);
//   - literal text chosen by a test of the language (if lang == langEN { return "…" }).
//
// Literal text is a string literal with a Chinese character, or with an
// English word that is neither a language code nor a message id. Names the
// data carries (NameZH: p.NameZH) and rendered messages (TextZH: m.Text(catalog.ZH))
// hold no literal text and pass.
func inlinePairs(t *testing.T, path string, src []byte, params map[string][]string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	structs := structTypes(f)
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fmt.Sprintf("%s: %s; use a catalogue id with arguments", fset.Position(n.Pos()), what))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "pickLang" && len(x.Args) > 1 {
				for _, arg := range x.Args[1:] {
					if lit := literalText(arg); lit != nil {
						report(lit, "pickLang with literal text "+lit.Value)
					}
				}
			}
			if id, ok := x.Fun.(*ast.Ident); ok {
				for i, arg := range x.Args {
					if i < len(params[id.Name]) && languageHalf(params[id.Name][i]) {
						if lit := literalText(arg); lit != nil {
							report(lit, id.Name+"'s "+params[id.Name][i]+" given literal text "+lit.Value)
						}
					}
				}
			}
		case *ast.FuncDecl:
			if languageHalf(x.Name.Name) && x.Body != nil {
				ast.Inspect(x.Body, func(n ast.Node) bool {
					if r, ok := n.(*ast.ReturnStmt); ok {
						for _, e := range r.Results {
							if lit := literalText(e); lit != nil {
								report(lit, x.Name.Name+" returns literal text "+lit.Value)
							}
						}
					}
					return true
				})
			}
		case *ast.CompositeLit:
			for i, e := range x.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					// A positional struct literal: the field is the
					// struct's i-th ({"revenue", "营业收入", "revenue", …}).
					if name := positionalField(x, i, structs); languageHalf(name) {
						if lit := literalText(e); lit != nil {
							report(lit, name+" given literal text "+lit.Value)
						}
					}
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); ok && languageHalf(k.Name) {
					if lit := literalText(kv.Value); lit != nil {
						report(lit, k.Name+" given literal text "+lit.Value)
					}
				}
				if k, ok := kv.Key.(*ast.BasicLit); ok && hasHan(k) {
					if v, ok := kv.Value.(*ast.BasicLit); ok && v.Kind == token.STRING && !hasHan(v) && literalText(v) != nil {
						report(k, "translation table "+k.Value+": "+v.Value)
					}
				}
			}
		case *ast.AssignStmt:
			for i, lhs := range x.Lhs {
				if !languageHalf(targetName(lhs)) {
					continue
				}
				rhs := x.Rhs[0]
				if len(x.Rhs) == len(x.Lhs) {
					rhs = x.Rhs[i]
				}
				if lit := literalText(rhs); lit != nil {
					report(lit, targetName(lhs)+" given literal text "+lit.Value)
				}
			}
		case *ast.ValueSpec:
			for i, name := range x.Names {
				if languageHalf(name.Name) && i < len(x.Values) {
					if lit := literalText(x.Values[i]); lit != nil {
						report(lit, name.Name+" given literal text "+lit.Value)
					}
				}
			}
		case *ast.IfStmt:
			if !testsLanguage(x.Cond) {
				return true
			}
			for _, branch := range []ast.Node{x.Body, x.Else} {
				if branch == nil {
					continue
				}
				ast.Inspect(branch, func(n ast.Node) bool {
					switch y := n.(type) {
					case *ast.ReturnStmt:
						for _, r := range y.Results {
							if lit := literalText(r); lit != nil {
								report(lit, "literal text chosen by language "+lit.Value)
							}
						}
					case *ast.AssignStmt:
						for _, r := range y.Rhs {
							if lit := literalText(r); lit != nil {
								report(lit, "literal text chosen by language "+lit.Value)
							}
						}
					}
					return true
				})
			}
		}
		return true
	})
	return found
}

var (
	han         = regexp.MustCompile(`\p{Han}`)
	englishWord = regexp.MustCompile(`[A-Za-z]{2,}`)
	// languageSuffix names one language's half of a pair: TextZH, unitEN, ZH, zh
	// (not EFORBIDDEN).
	languageSuffix = regexp.MustCompile(`^(zh|en|ZH|EN)$|[a-z](ZH|EN|Zh|En)$`)
)

// structTypes maps each composite literal in f whose elements are structs
// written positionally — its own struct type, or the element type of a
// slice or map of them, declared inline or in f — to the structs' field
// names in order.
func structTypes(f *ast.File) map[*ast.CompositeLit][]string {
	declared := map[string]*ast.StructType{}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				declared[ts.Name.Name] = st
			}
		}
		return true
	})
	names := func(t ast.Expr) []string {
		if id, ok := t.(*ast.Ident); ok && declared[id.Name] != nil {
			t = declared[id.Name]
		}
		st, ok := t.(*ast.StructType)
		if !ok {
			return nil
		}
		var out []string
		for _, fl := range st.Fields.List {
			for _, n := range fl.Names {
				out = append(out, n.Name)
			}
		}
		return out
	}
	out := map[*ast.CompositeLit][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if fields := names(lit.Type); fields != nil {
			out[lit] = fields
		}
		var elem ast.Expr
		switch t := lit.Type.(type) {
		case *ast.ArrayType:
			elem = t.Elt
		case *ast.MapType:
			elem = t.Value
		}
		if fields := names(elem); fields != nil {
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					e = kv.Value
				}
				if inner, ok := e.(*ast.CompositeLit); ok && inner.Type == nil {
					out[inner] = fields
				}
			}
		}
		return true
	})
	return out
}

// packageParams maps each function of the package in dir — declared, or a
// literal given a name (fail := func(zh, en string) {…}) — to its
// parameters' names, for the calls that hand one language's half literal text.
func packageParams(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		functionParams(f, out)
	}
	return out
}

// functionParams adds f's functions and their parameters' names to out.
func functionParams(f *ast.File, out map[string][]string) {
	names := func(ft *ast.FuncType) []string {
		var ps []string
		for _, fl := range ft.Params.List {
			for _, n := range fl.Names {
				ps = append(ps, n.Name)
			}
			if len(fl.Names) == 0 {
				ps = append(ps, "")
			}
		}
		return ps
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncDecl:
			if x.Recv == nil {
				out[x.Name.Name] = names(x.Type)
			}
		case *ast.AssignStmt:
			for i, rhs := range x.Rhs {
				if fl, ok := rhs.(*ast.FuncLit); ok && i < len(x.Lhs) {
					out[targetName(x.Lhs[i])] = names(fl.Type)
				}
			}
		}
		return true
	})
}

// positionalField names the field the i-th element of a positional struct
// literal fills, or "".
func positionalField(lit *ast.CompositeLit, i int, structs map[*ast.CompositeLit][]string) string {
	if fields := structs[lit]; i < len(fields) {
		return fields[i]
	}
	return ""
}

// languageHalf reports whether name is one language's half of a pair.
func languageHalf(name string) bool { return languageSuffix.MatchString(name) }

// targetName is the name an assignment writes: x, or x.Field's Field.
func targetName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

// literalText returns the first string literal in e that is text a person
// reads, or nil. An index (labels["employees"]) or a key (Args{"Name": …})
// is a code, not text.
func literalText(e ast.Expr) *ast.BasicLit {
	var found *ast.BasicLit
	ast.Inspect(e, func(n ast.Node) bool {
		if found != nil {
			return false
		}
		switch x := n.(type) {
		case *ast.IndexExpr:
			found = literalText(x.X)
			return false
		case *ast.KeyValueExpr: // Args{"Name": …}: the key names an argument
			found = literalText(x.Value)
			return false
		}
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		switch {
		case han.MatchString(s):
			found = lit
		case s == catalog.ZH || s == catalog.EN || s == "zh-CN" || messageID.MatchString(s):
		case englishWord.MatchString(s):
			found = lit
		}
		return false
	})
	return found
}

func hasHan(lit *ast.BasicLit) bool {
	s, err := strconv.Unquote(lit.Value)
	return err == nil && han.MatchString(s)
}

// testsLanguage reports whether cond compares the reader's language (lang,
// s.lang(c)) with a language: "en", "zh", langEN, catalog.ZH ….
func testsLanguage(cond ast.Expr) bool {
	b, ok := cond.(*ast.BinaryExpr)
	if !ok {
		return false
	}
	if b.Op == token.LAND || b.Op == token.LOR {
		return testsLanguage(b.X) || testsLanguage(b.Y)
	}
	if b.Op != token.EQL && b.Op != token.NEQ {
		return false
	}
	reader := func(e ast.Expr) bool {
		if call, ok := e.(*ast.CallExpr); ok {
			e = call.Fun
		}
		return strings.Contains(strings.ToLower(targetName(e)), "lang")
	}
	if !reader(b.X) && !reader(b.Y) {
		return false
	}
	for _, side := range []ast.Expr{b.X, b.Y} {
		switch x := side.(type) {
		case *ast.BasicLit:
			if s, _ := strconv.Unquote(x.Value); s == catalog.ZH || s == catalog.EN {
				return true
			}
		case *ast.Ident, *ast.SelectorExpr:
			if n := targetName(x); n == "langEN" || n == "langZH" || n == "EN" || n == "ZH" {
				return true
			}
		}
	}
	return false
}
