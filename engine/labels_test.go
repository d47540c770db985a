package engine_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"zonevet/engine"
)

// TestEveryCodeHasLabels: every state, role and logged event (each Event*
// constant in the engine's source) is named in both languages by the
// catalogue, so no page, export or CLI line shows a raw code such as
// "rating_publish".
func TestEveryCodeHasLabels(t *testing.T) {
	check := func(kind, code, zh, en string) {
		t.Helper()
		// English may be the code itself ("submit"); Chinese never is.
		if !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) || en == "" || strings.HasPrefix(en, kind+".") {
			t.Errorf("%s %s: labels %q / %q", kind, code, zh, en)
		}
	}
	for _, s := range engine.States {
		check("state", string(s), engine.StateLabel(s, "zh"), engine.StateLabel(s, "en"))
	}
	for _, r := range engine.Roles {
		check("role", string(r), engine.RoleLabel(r, "zh"), engine.RoleLabel(r, "en"))
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, f := range pkgs["engine"].Files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Event") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					ev, _ := strconv.Unquote(lit.Value)
					check("event", ev, engine.EventLabel(ev, "zh"), engine.EventLabel(ev, "en"))
					events++
				}
			}
		}
	}
	if events < 30 {
		t.Fatalf("found %d events; the scan is broken", events)
	}
}
