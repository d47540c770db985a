package rules

// Decoding a rule-set file and locating things in it: the YAML path of a
// problem becomes its rule, field, line and column.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"zonevet/rules/catalog"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// parseFile turns bytes into a decoded spec, or the problems that stop it.
func parseFile(filename string, data []byte) (f *ast.File, spec *fileSpec, probs []Problem) {
	one := func(rule, field string, msg catalog.Message, tk *token.Token) []Problem {
		p := newProblem(rule, field, msg)
		if tk != nil && tk.Position != nil {
			p.Line, p.Column = tk.Position.Line, tk.Position.Column
		}
		return []Problem{p}
	}
	if len(data) > maxFileSize {
		return nil, nil, one("file", "-", catalog.Message{ID: "rules.file_too_large", Args: catalog.Args{"Size": len(data), "Max": maxFileSize}}, nil)
	}
	tokens, deep := lexWithinLimits(data)
	if deep != nil {
		return nil, nil, []Problem{*deep}
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, nil, one("file", "-", yamlMessage(err), yamlToken(err))
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, nil, one("file", "-", catalog.Message{ID: "rules.file_empty"}, nil)
	case len(docs) > 1:
		return nil, nil, one("file", "-", catalog.Message{ID: "rules.file_several_documents"}, docs[1].Body.GetToken())
	}
	if _, ok := docs[0].Body.(*ast.MappingNode); !ok {
		return nil, nil, one("file", "-", catalog.Message{ID: "rules.file_not_mapping"}, docs[0].Body.GetToken())
	}
	f.Docs = docs
	// Anchors and aliases are refused: an official's rule file has no use
	// for them, and they let a small file expand into a huge one.
	var alias *token.Token
	ast.Walk(visitFunc(func(n ast.Node) bool {
		switch n.(type) {
		case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
			alias = n.GetToken()
			return false
		}
		return alias == nil
	}), docs[0].Body)
	if alias != nil {
		return nil, nil, one("file", "-", catalog.Message{ID: "rules.file_anchors"}, alias)
	}
	spec = new(fileSpec)
	if err := yaml.NodeToValue(docs[0].Body, spec, yaml.DisallowUnknownField()); err != nil {
		tk := yamlToken(err)
		rule, field := "file", "-"
		if tk != nil {
			if path, ok := findPath(docs[0].Body, tk, "$"); ok {
				rule, field = describe(f, path)
			}
		}
		return nil, nil, one(rule, field, yamlMessage(err), tk)
	}
	return f, spec, nil
}

// visitFunc adapts a function to ast.Visitor; returning false prunes.
type visitFunc func(ast.Node) bool

// Visit implements ast.Visitor.
func (v visitFunc) Visit(n ast.Node) ast.Visitor {
	if v(n) {
		return v
	}
	return nil
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "other"
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "mapping"
	}
	return "other"
}

func yamlToken(err error) *token.Token {
	var ye yaml.Error
	if errors.As(err, &ye) {
		return ye.GetToken()
	}
	return nil
}

// yamlMessage is the decoder's message without its source excerpt, and
// without Go type names an official cannot act on.
func yamlMessage(err error) catalog.Message {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		kind := catalog.Message{ID: "rules.kind." + kindName(te.DstType)}
		if te.Token != nil {
			return catalog.Message{ID: "rules.yaml_type_got", Args: catalog.Args{"Kind": kind, "Got": fmt.Sprintf("%q", te.Token.Value)}}
		}
		return catalog.Message{ID: "rules.yaml_type", Args: catalog.Args{"Kind": kind}}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		return catalog.Message{ID: "rules.yaml_syntax", Args: catalog.Args{"Detail": ye.GetMessage()}}
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return catalog.Message{ID: "rules.yaml_syntax", Args: catalog.Args{"Detail": s}}
}

// findPath returns the YAML path of the node carrying tk, preferring the
// deepest match (a mapping starts at its first key's token).
func findPath(n ast.Node, tk *token.Token, path string) (string, bool) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			if p, ok := findPath(mv, tk, path); ok {
				return p, true
			}
		}
	case *ast.MappingValueNode:
		key := n.Key.GetToken()
		child := path + "." + keySegment(key.Value)
		if p, ok := findPath(n.Value, tk, child); ok {
			return p, true
		}
		if samePos(key, tk) {
			return child, true
		}
	case *ast.SequenceNode:
		for i, v := range n.Values {
			if p, ok := findPath(v, tk, fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, true
			}
		}
	case *ast.TagNode:
		return findPath(n.Value, tk, path)
	}
	if n != nil && samePos(n.GetToken(), tk) {
		return path, true
	}
	return "", false
}

func samePos(a, b *token.Token) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	return a.Position != nil && b.Position != nil &&
		a.Position.Line == b.Position.Line && a.Position.Column == b.Position.Column
}

// keySegment quotes a mapping key that is not a plain identifier, so the
// path stays parseable by yaml.PathString.
func keySegment(k string) string {
	if idPattern.MatchString(k) || parkPattern.MatchString(k) {
		return k
	}
	return "'" + strings.ReplaceAll(k, "'", "") + "'"
}

// itemSections are top-level lists whose items carry an id that names the
// rule in a Problem; sections are top-level mappings named as a whole.
var (
	itemSections = map[string]bool{"leading_industries": true, "metrics": true, "checks": true}
	sections     = map[string]bool{"scoring": true, "rating": true, "tracking": true, "targets": true, "deadlines": true, "holidays": true, "workdays": true, "figures": true}
)

// segment is one step of a path: a key or an index.
type segment struct {
	key   string
	index int // -1 for a key
}

func splitPath(path string) []segment {
	path = strings.TrimPrefix(path, "$")
	var segs []segment
	for path != "" {
		switch path[0] {
		case '.':
			path = path[1:]
			end := strings.IndexAny(path, ".[")
			if strings.HasPrefix(path, "'") {
				if q := strings.IndexByte(path[1:], '\''); q >= 0 {
					end = q + 2
					if end >= len(path) {
						end = -1
					}
				}
			}
			if end < 0 {
				end = len(path)
			}
			segs = append(segs, segment{key: strings.Trim(path[:end], "'"), index: -1})
			path = path[end:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return segs
			}
			i, _ := strconv.Atoi(path[1:end])
			segs = append(segs, segment{index: i})
			path = path[end+1:]
		default:
			return segs
		}
	}
	return segs
}

func joinSegments(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// describe names the rule and field of a path for a Problem: the id of the
// check, metric or sector an item of those lists has (or "checks[3]" while
// it has none), the section name for scoring, rating and the like, and
// "park" for the top-level identity fields.
func describe(f *ast.File, path string) (rule, field string) {
	segs := splitPath(path)
	if len(segs) == 0 {
		return "file", "-"
	}
	top := segs[0].key
	switch {
	case itemSections[top] && len(segs) >= 2 && segs[1].index >= 0:
		rule = fmt.Sprintf("%s[%d]", top, segs[1].index)
		if id := scalarAt(f, fmt.Sprintf("$.%s[%d].id", top, segs[1].index)); id != "" {
			rule = id
		}
		field = joinSegments(segs[2:])
	case itemSections[top], sections[top]:
		rule = top
		field = joinSegments(segs[1:])
		if field == "" || len(segs) > 1 && segs[1].index >= 0 {
			field = top + field // "holidays[0]" rather than "[0]"
		}
	default:
		rule, field = "park", joinSegments(segs)
	}
	if field == "" {
		field = "-"
	}
	return rule, field
}

// scalarAt returns the scalar at path, or "".
func scalarAt(f *ast.File, path string) string {
	n := nodeAt(f, path)
	if n == nil {
		return ""
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.SequenceNode:
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

func nodeAt(f *ast.File, path string) ast.Node {
	if f == nil {
		return nil
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(f)
	if err != nil {
		return nil
	}
	return n
}

// position locates path in the file, falling back to the nearest parent
// that exists (a missing field points at the item that lacks it).
func position(f *ast.File, path string) (line, col int) {
	for p := path; p != ""; p = parentPath(p) {
		if n := nodeAt(f, p); n != nil {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				return tk.Position.Line, tk.Position.Column
			}
		}
	}
	return 0, 0
}

func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// number reads a YAML scalar decoded into any as a finite float64.
func number(v any) (float64, bool) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case float32:
		x = float64(n)
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	case uint64:
		x = float64(n)
	default:
		return 0, false
	}
	return x, !math.IsNaN(x) && !math.IsInf(x, 0)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// describeValue names what was found where a number was expected.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("text %q", x)
	case bool:
		return fmt.Sprintf("yes/no (%v)", x)
	case map[string]any:
		return "a mapping"
	case []any:
		return "list"
	}
	if f, ok := v.(float64); ok && !finite(f) {
		return fmt.Sprint(f)
	}
	return fmt.Sprintf("%v", v)
}

// sumIs reports whether weights add up to want, allowing float rounding.
func sumIs(sum, want float64) bool { return math.Abs(sum-want) < 1e-9 }
