package engine

import (
	"errors"
	"strings"

	"zonevet/rules"
)

// Problems is every problem of the form at once, at most one per field, in
// form order, each an invalid *Error naming its field: a form shows them
// all beside their fields in one round trip. It trims the names and
// upper-cases the USCC as Validate does.
func (in *ProjectInput) Problems() []*Error {
	in.Name = strings.TrimSpace(in.Name)
	in.InvestorName = strings.TrimSpace(in.InvestorName)
	in.USCC = strings.ToUpper(strings.TrimSpace(in.USCC))
	var out []*Error
	if in.Park == "" {
		out = append(out, FieldFail("park", "err.choose_park", nil))
	}
	if in.Name == "" || len([]rune(in.Name)) > 200 {
		out = append(out, FieldFail("name", "err.project_name_is_required_at_most", nil))
	}
	if in.InvestorName == "" || len([]rune(in.InvestorName)) > 200 {
		out = append(out, FieldFail("investor_name", "err.investor_name_is_required_at_most", nil))
	}
	if in.USCC == "" {
		out = append(out, FieldFail("uscc", "err.uscc_required", nil))
	} else if !ValidUSCC(in.USCC) {
		var e *Error
		if errors.As(CheckUSCC(in.USCC), &e) {
			out = append(out, e)
		}
	}
	for _, err := range rules.FigureProblems(in.Figures) {
		var ie *rules.InputError
		if errors.As(err, &ie) {
			out = append(out, inputError(ie))
		}
	}
	return out
}
