package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

// validate checks one firm's figures for a year; the error names the field.
func (f *AnnualFigures) validate(thisYear int) error {
	if f.Year < 2000 || f.Year > thisYear {
		return FieldFail("year", "err.year_must_be_within_2000_to", Args{"ThisYear": thisYear})
	}
	for _, n := range []struct {
		field string
		v     float64
	}{
		{"revenue", f.Revenue}, {"output", f.Output}, {"value_added", f.ValueAdded}, {"tax", f.Tax},
		{"rd_expense", f.RDExpense}, {"energy_use", f.EnergyUse}, {"emissions", f.Emissions}, {"electricity", f.Electricity},
		{"employees", float64(f.Employees)},
	} {
		if ie := rules.CheckAmount(n.field, labelArg("amount", n.field), n.v); ie != nil {
			return inputError(ie)
		}
	}
	if f.ValueAdded > f.Output && f.Output > 0 {
		return FieldFail("value_added", "err.value_added_cannot_exceed_output", nil)
	}
	if f.RDExpense > f.Revenue && f.Revenue > 0 {
		return FieldFail("rd_expense", "err.r_expense_cannot_exceed_revenue", nil)
	}
	return nil
}

// figuresState: annual figures belong to firms that have started building or producing.
func figuresState(st State) bool {
	return st == StateUnderConstruction || st == StateInProduction || st == StateRectification
}

// SaveFigures records one firm's annual figures from the form.
func (s *Service) SaveFigures(ctx context.Context, u *User, id int64, f AnnualFigures) error {
	p, err := s.Project(ctx, u, id)
	if err != nil {
		return err
	}
	a, err := s.authorize(u, p.Park, trackingObject, actFigures)
	if err != nil {
		return err
	}
	if !figuresState(p.State) {
		return Fail(ECONFLICT, "err.annual_figures_are_entered_for_firms", Args{"State": stateArg(p.State)})
	}
	f.ProjectID, f.Park = p.ID, p.Park
	if err := f.validate(s.Today().Year()); err != nil {
		return err
	}
	f.EnteredBy, f.EnteredAt = u.Username, s.now().UTC()
	e := s.entry(a, p, EventFigures, p.State, p.State)
	e.Reason = fmt.Sprintf("%d 年度", f.Year)
	e.Payload = payload(f)
	return s.store.Apply(ctx, &Change{Entry: e, Tracking: &TrackingPart{Figures: []AnnualFigures{f}}})
}

// AnnualRow is one data row of an imported annual sheet: the firm by its
// unified social credit code, and its figures. Row is the sheet's row number.
type AnnualRow struct {
	Row     int           `json:"row"`
	USCC    string        `json:"uscc"`
	Figures AnnualFigures `json:"figures"`
}

// RowError is one problem of an imported sheet: row, the field (the caller
// maps it to its column) and why.
type RowError struct {
	Row   int
	Field string
	Msg   catalog.Message
}

// Text renders the problem in lang.
func (e RowError) Text(lang string) string { return e.Msg.Text(lang) }

// MarshalJSON gives API readers the problem in both languages, as before the
// catalogue: {"row", "field", "message" (zh-CN), "message_en"}.
func (e RowError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Row       int    `json:"row"`
		Field     string `json:"field"`
		Message   string `json:"message"`
		MessageEN string `json:"message_en"`
	}{e.Row, e.Field, e.Text(catalog.ZH), e.Text(catalog.EN)})
}

// rowError is the problem of row in field, as catalogue message id with args.
func rowError(row int, field, id string, args Args) RowError {
	return RowError{Row: row, Field: field, Msg: catalog.Message{ID: id, Args: args}}
}

// ImportInput is a park's annual sheet, parsed by the caller.
type ImportInput struct {
	Park       string
	Year       int
	Rows       []AnnualRow
	Errors     []RowError // problems the caller found reading cells; those rows are not in Rows
	FileName   string
	FileSHA256 string
	// AcceptGood imports the good rows although some rows are bad; without
	// it a sheet with any error imports nothing.
	AcceptGood bool
	DryRun     bool // only check
}

// ImportResult says what an import did.
type ImportResult struct {
	Rows     int        `json:"rows"`     // data rows read
	Good     int        `json:"good"`     // rows without errors
	Imported int        `json:"imported"` // rows written
	Errors   []RowError `json:"errors"`   // every bad row, sorted by row
}

// ImportFigures imports a park's annual sheet in one transaction with one
// decision-log entry. Every bad row is reported; nothing is written if any
// row is bad, unless in.AcceptGood.
func (s *Service) ImportFigures(ctx context.Context, u *User, in ImportInput) (*ImportResult, error) {
	a, err := s.authorize(u, in.Park, trackingObject, actFigures)
	if err != nil {
		return nil, err
	}
	if in.Year < 2000 || in.Year > s.Today().Year() {
		return nil, FieldFail("year", "err.choose_valid_year", nil)
	}
	ps, err := s.store.TrackedProjects(ctx, []string{in.Park}, []State{StateUnderConstruction, StateInProduction, StateRectification})
	if err != nil {
		return nil, err
	}
	byUSCC := make(map[string]*TrackedProject, len(ps))
	for i := range ps {
		byUSCC[ps[i].USCC] = &ps[i]
	}
	res := &ImportResult{Rows: len(in.Rows) + countRows(in.Errors), Errors: append([]RowError(nil), in.Errors...)}
	seen := map[int64]int{}
	var good []AnnualFigures
	now := s.now().UTC()
	for _, r := range in.Rows {
		bad := func(field, id string, args Args) {
			res.Errors = append(res.Errors, rowError(r.Row, field, id, args))
		}
		code := strings.ToUpper(strings.TrimSpace(r.USCC))
		p := byUSCC[code]
		switch {
		case code == "":
			bad("uscc", "row.uscc_empty", nil)
			continue
		case !ValidUSCC(code):
			e := CheckUSCC(code).(*Error)
			bad("uscc", e.ID, e.Args)
			continue
		case p == nil:
			bad("uscc", "row.no_tracked_project", Args{"Code": code})
			continue
		case seen[p.ID] != 0:
			bad("uscc", "row.same_firm", Args{"Row": seen[p.ID]})
			continue
		}
		seen[p.ID] = r.Row
		f := r.Figures
		f.ProjectID, f.Park, f.Year, f.EnteredBy, f.EnteredAt = p.ID, p.Park, in.Year, u.Username, now
		if err := f.validate(s.Today().Year()); err != nil {
			var de *Error
			if errors.As(err, &de) {
				bad(de.Field, de.ID, de.Args)
				continue
			}
			return nil, err
		}
		good = append(good, f)
	}
	sortRowErrors(res.Errors)
	res.Good = len(good)
	if in.DryRun || len(good) == 0 || len(res.Errors) > 0 && !in.AcceptGood {
		return res, nil
	}
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: in.Park, Event: EventImport,
		Reason: fmt.Sprintf("%d 年度数据导入:%s,%d 行,导入 %d 行,错误 %d 行", in.Year, in.FileName, res.Rows, len(good), len(res.Errors))}
	e.Payload = payload(map[string]any{"year": in.Year, "file": in.FileName, "sha256": in.FileSHA256, "rows": res.Rows,
		"imported": len(good), "errors": res.Errors})
	if err := s.store.Apply(ctx, &Change{Entry: e, Tracking: &TrackingPart{Figures: good}}); err != nil {
		return nil, err
	}
	res.Imported = len(good)
	return res, nil
}

func countRows(errs []RowError) int {
	rows := map[int]bool{}
	for _, e := range errs {
		rows[e.Row] = true
	}
	return len(rows)
}

func sortRowErrors(errs []RowError) {
	slices.SortStableFunc(errs, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
}

// ReportingFirms lists the firms of a park that report annual figures
// (building, producing or rectifying), for the downloadable sheet.
func (s *Service) ReportingFirms(ctx context.Context, u *User, park string) ([]TrackedProject, error) {
	if _, err := s.authorize(u, park, "project", "read"); err != nil {
		return nil, err
	}
	return s.store.TrackedProjects(ctx, []string{park}, []State{StateUnderConstruction, StateInProduction, StateRectification})
}
