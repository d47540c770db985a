package rules

import (
	"zonevet/rules/catalog"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// maxNesting is how deeply collections may nest in a rule-set file. The
// deepest part of a real one (a check's class thresholds) is five levels;
// 64 leaves room for any hand-written layout.
const maxNesting = 64

// lexWithinLimits tokenizes a rule-set file and refuses it, before any
// parsing, when its collections nest deeper than maxNesting. goccy/go-yaml's
// parser takes time and memory quadratic in the depth (a 60,000-deep file
// of 120 KB took 5.3 GB) and has no option to bound it; its lexer is linear
// (as for any file of that size), so this costs one pass over tokens the
// parser then reuses.
//
// The depth counted is an upper bound on the parser's: every open flow
// bracket, plus every distinct indentation column of the block indicators
// (-, ?, and a key's :) enclosing the token. A block sequence at its
// mapping's own indentation shares the mapping's column, so the true depth
// is at most twice what is counted; that still bounds the parser's work.
// Anchors and aliases lex linearly and are refused after parsing, before
// anything expands them (see parseFile).
func lexWithinLimits(data []byte) (token.Tokens, *Problem) {
	tokens := lexer.Tokenize(string(data))
	var (
		flow    int
		columns []int // block indentation columns enclosing the current token, increasing
	)
	for _, tk := range tokens {
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
			continue
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if flow > 0 {
				continue // inside brackets the brackets count
			}
			col := blockColumn(tk)
			for len(columns) > 0 && columns[len(columns)-1] > col {
				columns = columns[:len(columns)-1]
			}
			if len(columns) == 0 || columns[len(columns)-1] < col {
				columns = append(columns, col)
			}
		default:
			continue
		}
		if depth := flow + len(columns); depth > maxNesting {
			p := newProblem("file", "-", catalog.Message{ID: "rules.file_nested", Args: catalog.Args{"Max": maxNesting}})
			if tk.Position != nil {
				p.Line, p.Column = tk.Position.Line, tk.Position.Column
			}
			return nil, &p
		}
	}
	return tokens, nil
}

// blockColumn is the indentation a block indicator opens: its own column
// for - and ?, the key's for a : that follows a key on the same line.
func blockColumn(tk *token.Token) int {
	if tk.Position == nil {
		return 0
	}
	if tk.Type == token.MappingValueType {
		if k := tk.Prev; k != nil && k.Position != nil && k.Position.Line == tk.Position.Line {
			return k.Position.Column
		}
	}
	return tk.Position.Column
}
