package rules

import (
	"fmt"
	"strings"
	"zonevet/rules/catalog"
)

// Problem is one mistake in a rule-set file. Rule is the id of the check,
// metric or sector it sits in, or the section name ("scoring", "rating",
// "tracking", "deadlines", "holidays", "park" for the top-level fields);
// Field is the path below it, e.g. "value" or "table[1].upto". Line and
// Column point into the file when the mistake can be located (1-based; 0
// when unknown, e.g. for a field that is missing altogether and whose parent
// could not be found either).
type Problem struct {
	Rule  string `json:"rule"`
	Field string `json:"field"`
	// Msg is the catalogue message; Message is its English text, kept for
	// the CLI and API readers that show one language.
	Msg     catalog.Message `json:"msg"`
	Message string          `json:"message"`
	Line    int             `json:"line,omitempty"`
	Column  int             `json:"column,omitempty"`
}

func newProblem(rule, field string, m catalog.Message) Problem {
	return Problem{Rule: rule, Field: field, Msg: m, Message: m.Text(catalog.EN)}
}

// Text renders the problem's message in lang.
func (p Problem) Text(lang string) string {
	if p.Msg.ID == "" {
		return p.Message
	}
	return p.Msg.Text(lang)
}

// messageError is an error whose text is a catalogue message (a formula that
// does not compile), so the problem it becomes reads in either language.
type messageError struct{ catalog.Message }

func (e *messageError) Error() string { return e.Text(catalog.EN) }

func failMsg(id string, args catalog.Args) error {
	return &messageError{catalog.Message{ID: id, Args: args}}
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
	// Msg is the catalogue message when there is one; MessageZH and
	// MessageEN are its texts (or an inline pair).
	Msg       catalog.Message `json:"msg,omitzero"`
	MessageZH string          `json:"message_zh"`
	MessageEN string          `json:"message_en"`
}

// Error returns the English message prefixed by the field (and firm, for Rate).
func (e *InputError) Error() string {
	if e.ProjectID != 0 {
		return fmt.Sprintf("project %d: %s: %s", e.ProjectID, e.Field, e.MessageEN)
	}
	return e.Field + ": " + e.MessageEN
}

func inputMsg(field, id string, args catalog.Args) *InputError {
	m := catalog.Message{ID: id, Args: args}
	return &InputError{Field: field, Msg: m, MessageZH: m.Text(catalog.ZH), MessageEN: m.Text(catalog.EN)}
}

// CheckAmount is the one check that a figure is a finite, non-negative
// number, with one wording wherever figures are entered: a project's, a
// firm's annual figures, an agreement's commitments. field is the figure's
// json name, label its name as a message argument (a catalog.Message or
// catalog.Text).
func CheckAmount(field string, label any, v float64) *InputError {
	switch {
	case !finite(v):
		return inputMsg(field, "figure.not_finite", catalog.Args{"Name": label})
	case v < 0:
		return inputMsg(field, "figure.negative", catalog.Args{"Name": label, "Value": fmtNum(v)})
	}
	return nil
}
