package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"zonevet/rules/catalog"

	"zonevet/rules"
)

// This file holds the screening policy the lifecycle enforces: a project is
// submitted only when complete, a veto (一票否决) is never overridden, and a
// committee's 一事一议 waives named quantitative rules on the record of a
// meeting (会议纪要), not on one account's click.

// EventOverrideRefused is logged when the committee tries to override a
// failed veto: the attempt and its refusal stay on the record.
const EventOverrideRefused = "override_refused"

// DocumentMinutes is the document kind of meeting minutes (会议纪要), the
// record an override must cite.
const DocumentMinutes = "minutes"

// MinOverrideReason is the least number of characters an override's reason
// must have: a reason of substance, not "一事一议:重大项目".
const MinOverrideReason = 20

// submittable refuses to submit an incomplete project: every required
// figure the rule set names that is blank, and an industry code that is not
// a 4-digit class, all listed in one error.
func submittable(rs *rules.RuleSet, f rules.Figures) error {
	missing := rs.Incomplete(f)
	labels := catalog.List{}
	for _, name := range missing {
		lz, le := rules.FigureLabel(name)
		labels.Items = append(labels.Items, catalog.Text{ZH: lz, EN: le})
	}
	problems := catalog.List{SepZH: ";", SepEN: "; "}
	if len(missing) > 0 {
		problems.Items = append(problems.Items, catalog.Message{ID: "err.project_incomplete", Args: Args{"N": len(missing), "Fields": labels}})
	}
	if !slices.Contains(missing, "industry_code") {
		var ie *rules.InputError
		if errors.As(rules.CheckIndustryClass(f.IndustryCode), &ie) {
			missing = append(missing, "industry_code")
			problems.Items = append(problems.Items, ie.Msg)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Field: missing[0], Fields: missing, ID: "err.list", Args: Args{"List": problems}}
}

// waivable lists the failed hard rules of p's report that the committee may
// waive, or nil when there is nothing to override or a veto failed. Whether
// a rule is a veto is asked of the rule set that screened the project, so a
// report stored before reports carried the mark is judged the same way.
func (s *Service) waivable(ctx context.Context, p *Project) []rules.CheckResult {
	if p.Report == nil || p.Report.Passed() {
		return nil
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil
	}
	var out []rules.CheckResult
	for _, c := range p.Report.Checks {
		if c.Pass || c.Severity != rules.Hard {
			continue
		}
		if c.Veto || rs.IsVeto(c.ID) {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// failedVetoes lists the failed veto rules of p's report.
func failedVetoes(rs *rules.RuleSet, rep *rules.Report) []rules.CheckResult {
	var out []rules.CheckResult
	for _, c := range rep.Checks {
		if !c.Pass && c.Severity == rules.Hard && (c.Veto || rs.IsVeto(c.ID)) {
			out = append(out, c)
		}
	}
	return out
}

// OverrideRecord is what an override's log entry holds: the screening it
// overrides, each waived rule with the figures it failed on, and the
// meeting minutes that decided it.
type OverrideRecord struct {
	Report  *rules.Report   `json:"report"`
	Waived  []WaivedRule    `json:"waived"`
	Minutes MinutesCitation `json:"minutes"`
}

// WaivedRule is one failed hard rule a committee waived.
type WaivedRule struct {
	ID        string  `json:"id"`
	NameZH    string  `json:"name_zh"`
	NameEN    string  `json:"name_en"`
	Actual    float64 `json:"actual"`
	Threshold string  `json:"threshold"`
}

// MinutesCitation identifies the meeting minutes (会议纪要) behind an
// override: the uploaded document and its digest, number and date.
type MinutesCitation struct {
	DocumentID int64  `json:"document_id"`
	FileName   string `json:"file_name"`
	SHA256     string `json:"sha256"`
	Number     string `json:"number"` // 文号, e.g. 清高管纪〔2026〕12 号
	Date       string `json:"date"`   // YYYY-MM-DD
}

// checkOverride checks a committee override (一事一议) and returns what its
// log entry records. A failed veto refuses it outright, and the refused
// attempt is logged; otherwise every missing or wrong piece is named at
// once: each failed hard rule ticked (and nothing else), a reason of at
// least MinOverrideReason characters, the minutes document uploaded to this
// project, its number and its date.
func (s *Service) checkOverride(ctx context.Context, a actor, p *Project, act Action) (*OverrideRecord, error) {
	if p.Report == nil || p.Report.Passed() {
		return nil, Fail(EINVALID, "err.no_hard_rule_failed_nothing_to", nil)
	}
	rs, err := s.projectRuleSet(ctx, p)
	if err != nil {
		return nil, err
	}
	if vetoes := failedVetoes(rs, p.Report); len(vetoes) > 0 {
		var zh, en []string
		for _, c := range vetoes {
			zh, en = append(zh, c.NameZH), append(en, c.NameEN)
		}
		refusal := Fail(EFORBIDDEN, "err.veto_cannot_be_waived", Args{"Vetoes": catalog.Text{ZH: strings.Join(zh, "、"), EN: strings.Join(en, "; ")}})
		e := s.entry(a, p, EventOverrideRefused, p.State, p.State)
		e.Reason = act.Reason
		e.Payload = payload(map[string]any{"vetoes": vetoes, "refusal": refusal.Text("zh"), "attempt": act})
		if err := s.store.Apply(ctx, &Change{Entry: e}); err != nil {
			return nil, err
		}
		return nil, refusal
	}

	var fields []string
	problems := catalog.List{SepZH: ";", SepEN: "; "}
	problem := func(field, id string, args Args) {
		if !slices.Contains(fields, field) {
			fields = append(fields, field)
		}
		problems.Items = append(problems.Items, catalog.Message{ID: id, Args: args})
	}
	rec := &OverrideRecord{Report: p.Report}
	failed := s.waivable(ctx, p)
	for _, c := range failed {
		if !slices.Contains(act.Waive, c.ID) {
			problem("waive", "err.override_tick_each", Args{"Name": catalog.Text{ZH: c.NameZH, EN: c.NameEN}})
			continue
		}
		rec.Waived = append(rec.Waived, WaivedRule{ID: c.ID, NameZH: c.NameZH, NameEN: c.NameEN, Actual: c.Actual, Threshold: c.Threshold})
	}
	for _, id := range act.Waive {
		if !slices.ContainsFunc(failed, func(c rules.CheckResult) bool { return c.ID == id }) {
			problem("waive", "err.override_not_waivable", Args{"ID": id})
		}
	}
	if n := len([]rune(act.Reason)); n < MinOverrideReason {
		problem("reason", "err.override_reason_short", Args{"Min": MinOverrideReason, "N": n})
	}
	if act.MinutesDocument == 0 {
		problem("minutes_document", "err.override_minutes_choose", nil)
	} else if d, err := s.store.Document(ctx, act.MinutesDocument); err != nil || d.ProjectID != p.ID {
		problem("minutes_document", "err.override_minutes_foreign", nil)
	} else if d.Kind != DocumentMinutes {
		problem("minutes_document", "err.override_minutes_kind", nil)
	} else {
		rec.Minutes = MinutesCitation{DocumentID: d.ID, FileName: d.FileName, SHA256: d.SHA256}
	}
	number := strings.TrimSpace(act.MinutesNumber)
	switch {
	case number == "":
		problem("minutes_number", "err.override_number_required", nil)
	case len([]rune(number)) > 100:
		problem("minutes_number", "err.override_number_long", nil)
	}
	date, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(act.MinutesDate), s.location)
	switch {
	case strings.TrimSpace(act.MinutesDate) == "":
		problem("minutes_date", "err.override_date_required", nil)
	case err != nil:
		problem("minutes_date", "err.override_date_format", nil)
	case date.After(s.now().In(s.location)):
		problem("minutes_date", "err.override_date_future", nil)
	}
	if len(fields) > 0 {
		return nil, &Error{Code: EINVALID, Field: fields[0], Fields: fields, ID: "err.list", Args: Args{"List": problems}}
	}
	rec.Minutes.Number, rec.Minutes.Date = number, date.Format(time.DateOnly)
	return rec, nil
}

// Waivable lists the failed hard rules of p's screening that the committee
// may waive by 一事一议 (one checkbox each on the form); empty when a veto
// failed or nothing failed.
func (s *Service) Waivable(ctx context.Context, p *Project) []rules.CheckResult {
	return s.waivable(ctx, p)
}

// Incomplete lists the required figures p leaves blank under its park's
// rule set in force, for a draft or returned project (what submit would
// refuse); nil for a project past screening or complete.
func (s *Service) Incomplete(ctx context.Context, p *Project) []string {
	if p.State != StateDraft && p.State != StateReturned {
		return nil
	}
	rs, err := s.ActiveRuleSet(ctx, p.Park)
	if err != nil {
		return nil
	}
	missing := rs.Incomplete(p.Figures)
	if !slices.Contains(missing, "industry_code") && rules.CheckIndustryClass(p.Figures.IndustryCode) != nil {
		missing = append(missing, "industry_code")
	}
	return missing
}
