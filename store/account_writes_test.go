package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// accountWrite matches SQL that writes the account tables.
var accountWrite = regexp.MustCompile(`(?is)\b(insert(\s+or\s+\w+)?\s+into|replace\s+into|update|delete\s+from)\s+(users|role_assignments)\b`)

// TestAccountTablesWrittenOnlyByAccountPart guards "every admin change is a
// decision-log entry" in the store's source: the only function whose SQL
// writes users or role_assignments is writeAccount, the AccountPart of the
// one write path (Apply), which appends the change's log entry in the same
// transaction. A second writer (as
// CreateUser, SetUserDisabled, SetPasswordHash, Assign and Unassign were)
// fails here, whether or not a test calls it.
func TestAccountTablesWrittenOnlyByAccountPart(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var writers []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && accountWrite.MatchString(lit.Value) {
						if !slices.Contains(writers, fn.Name.Name) {
							writers = append(writers, fn.Name.Name)
						}
					}
					return true
				})
			}
		}
	}
	if want := []string{"writeAccount"}; !slices.Equal(writers, want) {
		t.Fatalf("functions writing users or role_assignments = %v, want only %v (with its log entry)", writers, want)
	}
}
