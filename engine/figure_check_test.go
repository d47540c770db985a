package engine

import (
	"errors"
	"math"
	"testing"

	"zonevet/rules"
)

// TestFigureCheckOneWording: a negative or non-finite figure is refused with
// the same message wherever it is entered — a project's figures (rules), a
// firm's annual figures and an agreement's commitments (engine) — naming the
// figure and the value, in both languages.
func TestFigureCheckOneWording(t *testing.T) {
	neg, inf := -5.0, math.Inf(1)
	for _, tc := range []struct {
		name   string
		err    error
		field  string
		id     string
		zh, en string
	}{
		{"ProjectTax", rules.CheckFigures(rules.Figures{Tax: &neg}), "tax", "figure.negative", "税收不能为负数(填写值 -5)", "tax must not be negative (got -5)"},
		{"AnnualTax", (&AnnualFigures{Year: 2025, Tax: -5}).validate(2026), "tax", "figure.negative", "实缴税收不能为负数(填写值 -5)", "tax must not be negative (got -5)"},
		{"AgreementLand", (&Agreement{LandArea: -5}).validate(), "land_area", "figure.negative", "用地面积不能为负数(填写值 -5)", "land area must not be negative (got -5)"},
		{"AnnualOutputInfinite", (&AnnualFigures{Year: 2025, Output: inf}).validate(2026), "output", "figure.not_finite", "工业总产值必须是有限数值", "output must be a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *Error
			var ie *rules.InputError
			switch {
			case errors.As(tc.err, &e):
				if e.Field != tc.field || e.ID != tc.id || e.Text("zh") != tc.zh || e.Text("en") != tc.en {
					t.Errorf("got %s %s %q %q, want %s %s %q %q", e.Field, e.ID, e.Text("zh"), e.Text("en"), tc.field, tc.id, tc.zh, tc.en)
				}
			case errors.As(tc.err, &ie):
				if ie.Field != tc.field || ie.Msg.ID != tc.id || ie.MessageZH != tc.zh || ie.MessageEN != tc.en {
					t.Errorf("got %s %s %q %q, want %s %s %q %q", ie.Field, ie.Msg.ID, ie.MessageZH, ie.MessageEN, tc.field, tc.id, tc.zh, tc.en)
				}
			default:
				t.Fatalf("err = %v", tc.err)
			}
		})
	}
}
