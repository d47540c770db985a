package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Existing industrial land users (存量工业用地企业): a zone's rating covers
// every firm on its industrial land, not only the projects vetted in this
// system. A promoter imports them by unified social credit code with their
// land and the year's figures; a run rates them beside the projects. On a
// rating line a land user's id is the negated LandUser.ID (FirmID), so it
// never meets a project's. They are rated and classed with their measures;
// rectification, exit and objections through project documents belong to
// projects and are not opened for them here.

// EventLandUsersImport is the log event of a land-user import.
const EventLandUsersImport = "land_users_import"

// LandUser is an existing industrial land user of a park.
type LandUser struct {
	ID         int64     `json:"id"`
	Park       string    `json:"park"`
	USCC       string    `json:"uscc"`
	Name       string    `json:"name"`
	LandArea   float64   `json:"land_area"`  // 亩
	GrantedOn  time.Time `json:"granted_on"` // land grant (供地) date: the rating's grace period runs from it
	ImportedBy string    `json:"imported_by"`
	ImportedAt time.Time `json:"imported_at"`
}

// FirmID is the id a land user's rating line carries.
func (l *LandUser) FirmID() int64 { return -l.ID }

// LandUserRow is one row of a land-user sheet: the firm, its land, and its
// figures for the import's year.
type LandUserRow struct {
	Row       int
	USCC      string
	Name      string
	LandArea  float64
	GrantedOn time.Time
	Figures   AnnualFigures
}

// LandUserImport is a park's land-user sheet, parsed by the caller.
type LandUserImport struct {
	Park       string
	Year       int
	Rows       []LandUserRow
	Errors     []RowError // problems the caller found reading cells
	FileName   string
	FileSHA256 string
}

// LandUsersPart is what an import writes in one transaction: the land users
// (upserted on park and code; IDs written back), their figures for the year
// (parallel to Users) and the log entry.
type LandUsersPart struct {
	Users   []LandUser
	Figures []AnnualFigures
}

// LandUserStore reads land users; a Change's LandUsersPart writes them.
type LandUserStore interface {
	LandUsers(ctx context.Context, park string) ([]LandUser, error)
	// LandUserFigures are a park's land users' figures of a year, each with
	// ProjectID the land user's FirmID.
	LandUserFigures(ctx context.Context, park string, year int) ([]AnnualFigures, error)
}

// ImportLandUsers imports a park's land users with their figures for the
// year, all rows or none, in one transaction with one log entry. A code that
// belongs to a project of this system is refused: projects report on the
// annual sheet.
func (s *Service) ImportLandUsers(ctx context.Context, u *User, in LandUserImport) (*ImportResult, error) {
	a, err := s.authorize(u, in.Park, trackingObject, actFigures)
	if err != nil {
		return nil, err
	}
	if in.Year < 2000 || in.Year > s.Today().Year() {
		return nil, FieldFail("year", "err.choose_valid_year", nil)
	}
	projects, err := s.store.TrackedProjects(ctx, []string{in.Park}, States)
	if err != nil {
		return nil, err
	}
	isProject := map[string]bool{}
	for _, p := range projects {
		isProject[p.USCC] = true
	}
	res := &ImportResult{Rows: len(in.Rows) + countRows(in.Errors), Errors: append([]RowError(nil), in.Errors...)}
	now := s.now().UTC()
	seen := map[string]int{}
	c := &LandUsersPart{}
	for _, r := range in.Rows {
		bad := func(field, id string, args Args) {
			res.Errors = append(res.Errors, rowError(r.Row, field, id, args))
		}
		code := strings.ToUpper(strings.TrimSpace(r.USCC))
		name := strings.TrimSpace(r.Name)
		switch {
		case !ValidUSCC(code):
			bad("uscc", "row.uscc_invalid", Args{"Code": code})
			continue
		case isProject[code]:
			bad("uscc", "row.is_project", Args{"Code": code})
			continue
		case seen[code] != 0:
			bad("uscc", "row.same_firm", Args{"Row": seen[code]})
			continue
		case name == "":
			bad("name", "row.name_empty", nil)
			continue
		case !(r.LandArea > 0) || !finiteNonNeg(r.LandArea):
			bad("land_area", "row.land_area_positive", nil)
			continue
		case r.GrantedOn.IsZero() || r.GrantedOn.After(s.Today()):
			bad("granted_on", "row.granted_not_future", nil)
			continue
		}
		seen[code] = r.Row
		f := r.Figures
		f.Park, f.Year, f.EnteredBy, f.EnteredAt = in.Park, in.Year, u.Username, now
		if err := f.validate(s.Today().Year()); err != nil {
			var de *Error
			if errors.As(err, &de) {
				bad(de.Field, de.ID, de.Args)
				continue
			}
			return nil, err
		}
		c.Users = append(c.Users, LandUser{Park: in.Park, USCC: code, Name: name, LandArea: r.LandArea, GrantedOn: r.GrantedOn,
			ImportedBy: u.Username, ImportedAt: now})
		c.Figures = append(c.Figures, f)
	}
	sortRowErrors(res.Errors)
	res.Good = len(c.Users)
	if len(c.Users) == 0 || len(res.Errors) > 0 {
		return res, nil
	}
	e := AuditEntry{Time: now, Actor: u.Username, Role: a.role, Park: in.Park, Event: EventLandUsersImport,
		Reason:  fmt.Sprintf("%d 年度存量用地企业导入:%s,%d 家", in.Year, in.FileName, len(c.Users)),
		Payload: payload(map[string]any{"year": in.Year, "file": in.FileName, "sha256": in.FileSHA256, "firms": len(c.Users)})}
	if err := s.store.Apply(ctx, &Change{Entry: e, LandUsers: c}); err != nil {
		return nil, err
	}
	res.Imported = len(c.Users)
	return res, nil
}

// LandUsers lists a park's land users for u.
func (s *Service) LandUsers(ctx context.Context, u *User, park string) ([]LandUser, error) {
	if _, err := s.authorize(u, park, "project", "read"); err != nil {
		return nil, err
	}
	return s.store.LandUsers(ctx, park)
}

// landUserInputs are the rating inputs of a park's land users for a year:
// figures as filed, or not filed under a rule set that rates that.
func (s *Service) landUserInputs(ctx context.Context, park string, year, graceYears int, notFiled, belowMethod bool) ([]RatingInput, []int64, error) {
	users, err := s.store.LandUsers(ctx, park)
	if err != nil {
		return nil, nil, err
	}
	figs, err := s.store.LandUserFigures(ctx, park, year)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]*AnnualFigures{}
	for i := range figs {
		byID[figs[i].ProjectID] = &figs[i]
	}
	yearEnd := time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)
	var out []RatingInput
	var missing []int64
	for _, l := range users {
		if l.GrantedOn.Year() > year {
			continue // no land that year
		}
		f := byID[l.FirmID()]
		if f == nil {
			missing = append(missing, l.FirmID())
			if !notFiled {
				continue
			}
		}
		in := RatingInput{Delivered: l.GrantedOn.Format(time.DateOnly)}
		in.Firm.ProjectID, in.Firm.Name, in.Firm.LandArea = l.FirmID(), l.Name, l.LandArea
		in.Firm.InGrace = l.GrantedOn.AddDate(graceYears, 0, 0).After(yearEnd)
		if f == nil {
			in.Firm.NotFiled = true
		} else {
			in.HighTech = f.HighTech
			in.Firm.Output, in.Firm.ValueAdded, in.Firm.Tax, in.Firm.RDExpense, in.Firm.Revenue = f.Output, f.ValueAdded, f.Tax, f.RDExpense, f.Revenue
			in.Firm.EnergyUse, in.Firm.Emissions, in.Firm.Employees, in.Firm.Electricity = f.EnergyUse, f.Emissions, f.Employees, f.Electricity
			in.Firm.BelowScale = belowMethod && !f.AboveScale
		}
		out = append(out, in)
	}
	return out, missing, nil
}
