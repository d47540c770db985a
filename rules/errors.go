package rules

import (
	"fmt"
	"strings"
)

// Problem is one mistake in a rule-set file. Rule is the id of the check,
// metric or sector it sits in, or the section name ("scoring", "rating",
// "tracking", "deadlines", "holidays", "park" for the top-level fields);
// Field is the path below it, e.g. "value" or "table[1].upto". Line and
// Column point into the file when the mistake can be located (1-based; 0
// when unknown, e.g. for a field that is missing altogether and whose parent
// could not be found either).
type Problem struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// String renders the problem as "rule X: field Y: message (line L, column C)".
func (p Problem) String() string {
	s := "rule " + p.Rule + ": field " + p.Field + ": " + p.Message
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d, column %d)", p.Line, p.Column)
	}
	return s
}

// ValidationError lists every problem Parse found in one file, so an
// official fixes them all in one pass rather than one per upload.
type ValidationError struct {
	File     string    `json:"file"`
	Problems []Problem `json:"problems"`
}

// Error lists every problem, one per line, each as
// "file: rule X: field Y: message (line L, column C)".
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		b.WriteString(": ")
		b.WriteString(p.String())
	}
	return b.String()
}

// InputError is an investor figure (or a rating firm's figure, or a score)
// that cannot be evaluated: the caller's data is wrong, not the rules. Field
// is the json name of the figure (for ScoreTotal, the criterion id), so the
// web form can mark the input. The messages are safe to show to users.
type InputError struct {
	ProjectID int64  `json:"project_id,omitempty"` // set by Rate: which firm
	Field     string `json:"field"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
}

// Error returns the English message prefixed by the field (and firm, for Rate).
func (e *InputError) Error() string {
	if e.ProjectID != 0 {
		return fmt.Sprintf("project %d: %s: %s", e.ProjectID, e.Field, e.MessageEN)
	}
	return e.Field + ": " + e.MessageEN
}

func inputError(field, zh, en string) *InputError {
	return &InputError{Field: field, MessageZH: zh, MessageEN: en}
}
