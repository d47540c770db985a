package rules

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// allocatedBy is how many bytes fn allocates on the heap, all goroutines
// counted (a wall-clock bound would flake on a busy machine; bytes do not).
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// parseProblem parses data and returns its single problem, failing the test
// when Parse accepts it or reports anything but one problem.
func parseProblem(t *testing.T, data []byte) Problem {
	t.Helper()
	_, err := Parse("hostile.yaml", data)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("Parse = %v, want one problem", err)
	}
	return ve.Problems[0]
}

// deepFiles are rule files nested 60,000 levels deep in each way YAML
// nests, the deep part starting on line 2 (the block mapping is as deep as
// 1 MB of indentation allows). Before the depth check the parser's work was
// quadratic: 60,000 brackets took 5.3 GB in 6 s.
func deepFiles() map[string][]byte {
	const n = 60000
	var mapping strings.Builder
	mapping.WriteString("park: qingyuan\nchecks:\n")
	for i := 1; i < 1400; i++ {
		mapping.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return map[string][]byte{
		"FlowSequence":  []byte("park: qingyuan\nchecks: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n"),
		"FlowMapping":   []byte("park: qingyuan\nchecks: " + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n"),
		"BlockSequence": []byte("park: qingyuan\nchecks: " + strings.Repeat("- ", n) + "1\n"),
		"BlockMapping":  []byte(mapping.String()),
		"Mixed":         []byte("park: qingyuan\nchecks: " + strings.Repeat("- [", n/2) + strings.Repeat("]", n/2) + "\n"),
		// The most tokens the size limit lets through, nested all the way.
		"Largest": []byte("park: qingyuan\nchecks: " + strings.Repeat("{a: ", (maxFileSize-40)/5) + "1" + strings.Repeat("}", (maxFileSize-40)/5) + "\n"),
	}
}

// TestParseRefusesDeepNesting: a rule file nested deeper than maxNesting is
// refused before the parser builds it, naming the line where it gets too
// deep, with bounded memory.
func TestParseRefusesDeepNesting(t *testing.T) {
	for name, data := range deepFiles() {
		t.Run(name, func(t *testing.T) {
			var p Problem
			// Lexing is linear, up to some 300 bytes per byte of file (at most
			// 1 MB) like any file's; the quadratic parser took 45,000 per byte.
			got := allocatedBy(func() { p = parseProblem(t, data) })
			t.Logf("%d bytes of file, %d MB allocated", len(data), got>>20)
			if got > 500*uint64(len(data)) {
				t.Errorf("refusing %d KB took %d MB", len(data)>>10, got>>20)
			}
			if !strings.Contains(p.Message, "nested more than 64 levels") || p.Rule != "file" {
				t.Errorf("problem %v, want the nesting named", p)
			}
			if want := 2; name != "BlockMapping" && p.Line != want {
				t.Errorf("line %d, want %d", p.Line, want)
			}
			if name == "BlockMapping" && p.Line != 3+maxNesting-1 {
				// line 3 opens level 2 (park's mapping is level 1); level 65 is on line 66
				t.Errorf("line %d, want %d", p.Line, 3+maxNesting-1)
			}
		})
	}
}

// TestParseAllowsModestNesting: nesting within the limit goes on to the
// ordinary checks (here: checks must be a list of checks), so the limit
// does not stand in the way of a real file.
func TestParseAllowsModestNesting(t *testing.T) {
	for _, data := range [][]byte{
		[]byte("park: qingyuan\nchecks: " + strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1) + "\n"),
		[]byte("park: qingyuan\nchecks:\n" + strings.Repeat("- ", maxNesting-1) + "1\n"),
	} {
		if p := parseProblem(t, data); strings.Contains(p.Message, "nested") {
			t.Errorf("refused %d levels: %v", maxNesting, p)
		}
	}
	for _, park := range DefaultParks() {
		if _, err := Parse(park+".yaml", mustDefault(t, park).Source()); err != nil {
			t.Errorf("default %s: %v", park, err)
		}
	}
}

// TestParseRefusesAliasBomb: a billion-laughs file (nine levels of ten
// aliases each, 10⁹ leaves once expanded) is refused at its first anchor
// with bounded memory: nothing expands an alias before the refusal.
func TestParseRefusesAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("park: qingyuan\nl0: &l0 [lol]\n")
	for i := 1; i <= 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat("*l"+string(rune('0'+i-1))+", ", 10), ", ")
		b.WriteString("l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [" + refs + "]\n")
	}
	b.WriteString("checks: *l9\n")
	var p Problem
	if got := allocatedBy(func() { p = parseProblem(t, []byte(b.String())) }); got > 16<<20 {
		t.Errorf("refusing took %d MB", got>>20)
	}
	if !strings.Contains(p.Message, "anchors, aliases") || p.Line != 2 {
		t.Errorf("problem %v, want the anchor on line 2 named", p)
	}
}

// astDepth is how deeply collections nest in a parsed node: one level per
// sequence and per key–value pair.
func astDepth(n ast.Node) int {
	switch n := n.(type) {
	case *ast.DocumentNode:
		return astDepth(n.Body)
	case *ast.MappingNode:
		d := 0
		for _, v := range n.Values {
			d = max(d, astDepth(v))
		}
		return d
	case *ast.MappingValueNode:
		return 1 + max(astDepth(n.Key), astDepth(n.Value))
	case *ast.MappingKeyNode:
		return astDepth(n.Value)
	case *ast.SequenceNode:
		d := 0
		for _, v := range n.Values {
			d = max(d, astDepth(v))
		}
		return 1 + d
	case *ast.TagNode:
		return astDepth(n.Value)
	case *ast.AnchorNode:
		return astDepth(n.Value)
	}
	return 0
}

// FuzzLexWithinLimits: whatever lexWithinLimits lets through parses no
// deeper than twice maxNesting (the bound its count promises, see its
// comment), so the parser's quadratic work stays small; and refusing names
// a line of the file. Seeds: testdata/fuzz/FuzzLexWithinLimits (shallow,
// deep and mixed layouts) and the embedded defaults.
func FuzzLexWithinLimits(f *testing.F) {
	for _, park := range DefaultParks() {
		f.Add(mustDefault(f, park).Source())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFileSize {
			return
		}
		tokens, p := lexWithinLimits(data)
		if p != nil {
			if lines := 1 + strings.Count(string(data), "\n"); p.Line < 1 || p.Line > lines {
				t.Fatalf("refused at line %d of %d: %v", p.Line, lines, p)
			}
			return
		}
		file, err := parser.Parse(tokens, 0)
		if err != nil {
			return
		}
		for _, doc := range file.Docs {
			if d := astDepth(doc); d > 2*maxNesting+1 {
				t.Fatalf("let through a document %d deep", d)
			}
		}
	})
}
