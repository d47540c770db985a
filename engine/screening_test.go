package engine_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
)

// readTable reads a tab-separated testdata table, skipping # comments.
func readTable(t *testing.T, path string, cols int) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		row := strings.Split(line, "\t")
		if len(row) != cols {
			t.Fatalf("%s: %q has %d columns, want %d", path, line, len(row), cols)
		}
		rows = append(rows, row)
	}
	return rows
}

// edit sets figures from "name=value,…"; an empty value blanks the figure.
func edit(t *testing.T, f *rules.Figures, edits string) {
	t.Helper()
	for _, e := range strings.Split(edits, ",") {
		name, val, _ := strings.Cut(e, "=")
		switch {
		case name == "industry_code":
			f.IndustryCode = val
		case f.Number(name) != nil:
			*f.Number(name) = nil
			if val != "" {
				v, err := strconv.ParseFloat(val, 64)
				if err != nil {
					t.Fatal(err)
				}
				*f.Number(name) = &v
			}
		case f.Count(name) != nil:
			*f.Count(name) = nil
			if val != "" {
				v, err := strconv.Atoi(val)
				if err != nil {
					t.Fatal(err)
				}
				*f.Count(name) = &v
			}
		case f.Flag(name) != nil:
			*f.Flag(name) = nil
			if val != "" {
				v := val == "true"
				*f.Flag(name) = &v
			}
		default:
			t.Fatalf("unknown figure %q", name)
		}
	}
}

// TestVetoOverrideMatrix walks testdata/policy/veto_override.tsv: each veto
// alone and all together, by each role. The committee's override of a veto
// failure is refused, however complete its paperwork, and the refusal is
// logged; nobody else may override at all; the project is left as it was.
func TestVetoOverrideMatrix(t *testing.T) {
	w := mustWorld(t)
	for _, row := range readTable(t, "testdata/policy/veto_override.tsv", 4) {
		name, edits, role, want := row[0], row[1], row[2], row[3]
		t.Run(name+"/"+role, func(t *testing.T) {
			f := goodFigures()
			edit(t, &f, edits)
			p := w.act("promoter-qingyuan", w.create("qingyuan", f), engine.EventSubmit, "")
			if p.State != engine.StateScreening || p.Report.Passed() {
				t.Fatalf("screening passed: %+v", p.Report)
			}
			var waive []string
			for _, c := range p.Report.Checks {
				if !c.Pass && c.Severity == rules.Hard {
					waive = append(waive, c.ID) // tick everything, vetoes included: still refused
				}
			}
			act := w.overrideAction(p, waive...)
			who := role + "-qingyuan"
			if slices.Contains(w.svc.Actions(w.ctx, w.users[who], p), engine.EventOverride) != (want == "ok") {
				t.Errorf("Actions offers override: %v, want %v", w.svc.Actions(w.ctx, w.users[who], p), want == "ok")
			}
			got, err := w.svc.Act(w.ctx, w.users[who], p.ID, act)
			refusals, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventOverrideRefused}})
			switch want {
			case "ok":
				if err != nil || got.State != engine.StateExpertReview {
					t.Fatalf("override = %v, want it to pass into expert review", err)
				}
				return
			case "refused":
				wantCode(t, err, engine.EFORBIDDEN)
				if msg := engine.ErrorMessage(err, "zh"); !strings.Contains(msg, "一票否决") {
					t.Errorf("refusal %q does not say veto", msg)
				}
				if len(refusals) != 1 || refusals[0].Actor != who || refusals[0].Reason != act.Reason {
					t.Errorf("refusal log = %+v, want one entry by %s", refusals, who)
				}
			case "forbidden":
				wantCode(t, err, engine.EFORBIDDEN)
				if len(refusals) != 0 {
					t.Errorf("an unauthorized attempt was logged as an override refusal: %+v", refusals)
				}
			}
			after, _ := w.db.Project(w.ctx, p.ID)
			if after.State != engine.StateScreening || after.Override {
				t.Errorf("refused override changed the project: %s override=%v", after.State, after.Override)
			}
			if role == "committee" {
				// The only ways forward: return (the reviewer) or reject.
				if acts := w.svc.Actions(w.ctx, w.users[who], after); !slices.Contains(acts, engine.EventReject) {
					t.Errorf("committee actions %v lack reject", acts)
				}
			}
		})
	}
}

// TestOverrideRequirements: an override names every failed hard rule it
// waives and no other, gives a reason of at least 20 characters, and cites
// minutes uploaded to this project with number and date; every missing piece
// is named at once. The log entry holds the waived rules and the minutes'
// SHA-256, number and date.
func TestOverrideRequirements(t *testing.T) {
	w := mustWorld(t)
	twoFailures := goodFigures()
	twoFailures.Tax, twoFailures.FixedAssetInvestment = fp(500), fp(12500) // 10 and 250 万元/亩: two hard failures
	submitted := func() *engine.Project {
		return w.act("promoter-qingyuan", w.create("qingyuan", twoFailures), engine.EventSubmit, "")
	}
	other := w.act("promoter-qingyuan", w.create("qingyuan", twoFailures), engine.EventSubmit, "")
	otherAct := w.overrideAction(other, "tax_per_mu")
	for _, tc := range []struct {
		name   string
		change func(*engine.Action)
		fields []string
	}{
		{"ErrNothing", func(a *engine.Action) {
			*a = engine.Action{Event: engine.EventOverride, Version: a.Version, Reason: "一事一议:重大项目"}
		},
			[]string{"waive", "reason", "minutes_document", "minutes_number", "minutes_date"}},
		{"ErrNothingNoReason", func(a *engine.Action) {
			*a = engine.Action{Event: engine.EventOverride, Version: a.Version}
		},
			[]string{"waive", "reason", "minutes_document", "minutes_number", "minutes_date"}},
		{"ErrOneRuleNotTicked", func(a *engine.Action) { a.Waive = []string{"tax_per_mu"} }, []string{"waive"}},
		{"ErrPassingRuleTicked", func(a *engine.Action) { a.Waive = append(a.Waive, "plot_ratio") }, []string{"waive"}},
		{"ErrShortReason", func(a *engine.Action) { a.Reason = "一事一议:重大项目,同意放行" }, []string{"reason"}},
		{"ErrMinutesOfAnotherProject", func(a *engine.Action) { a.MinutesDocument = otherAct.MinutesDocument }, []string{"minutes_document"}},
		{"ErrNoNumberNoDate", func(a *engine.Action) { a.MinutesNumber, a.MinutesDate = " ", "" }, []string{"minutes_number", "minutes_date"}},
		{"ErrBadDate", func(a *engine.Action) { a.MinutesDate = "2026/11/30" }, []string{"minutes_date"}},
		{"ErrFutureDate", func(a *engine.Action) { a.MinutesDate = "2999-01-01" }, []string{"minutes_date"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := submitted()
			act := w.overrideAction(p, "tax_per_mu", "investment_intensity")
			tc.change(&act)
			_, err := w.svc.Act(w.ctx, w.users["committee-qingyuan"], p.ID, act)
			var de *engine.Error
			if !errors.As(err, &de) || de.Code != engine.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			if !slices.Equal(de.Fields, tc.fields) || de.Field != tc.fields[0] {
				t.Errorf("Fields = %v (Field %q), want %v", de.Fields, de.Field, tc.fields)
			}
			if after, _ := w.db.Project(w.ctx, p.ID); after.State != engine.StateScreening {
				t.Errorf("refused override moved the project to %s", after.State)
			}
		})
	}
	t.Run("OKLogHoldsWaivedRulesAndMinutes", func(t *testing.T) {
		p := submitted()
		act := w.overrideAction(p, "investment_intensity", "tax_per_mu")
		if _, err := w.svc.Act(w.ctx, w.users["committee-qingyuan"], p.ID, act); err != nil {
			t.Fatal(err)
		}
		log, _ := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventOverride}})
		if len(log) != 1 {
			t.Fatalf("override entries = %d", len(log))
		}
		var rec engine.OverrideRecord
		if err := json.Unmarshal([]byte(log[0].Payload), &rec); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rec.Waived {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, []string{"investment_intensity", "tax_per_mu"}) {
			t.Errorf("waived = %v", ids)
		}
		if m := rec.Minutes; m.DocumentID != act.MinutesDocument || m.SHA256 != strings.Repeat("ab", 32) || m.Number != "清高管纪〔2026〕9号" || m.Date != "2026-11-30" {
			t.Errorf("minutes = %+v", m)
		}
		if rec.Report == nil || rec.Report.HardFailures != 2 {
			t.Errorf("report = %+v", rec.Report)
		}
	})
}

// TestSubmitIncomplete walks testdata/policy/incomplete.tsv: a draft with
// blanks is saved, but submit is refused with every missing field named at
// once, and nothing changes; a leased standard plant needs no land figures.
func TestSubmitIncomplete(t *testing.T) {
	w := mustWorld(t)
	for _, row := range readTable(t, "testdata/policy/incomplete.tsv", 4) {
		name, blanks, leased, want := row[0], row[1], row[2] == "yes", row[3]
		t.Run(name, func(t *testing.T) {
			f := goodFigures()
			f.LeasedPlant = leased
			for _, b := range strings.Split(blanks, ",") {
				edit(t, &f, b+"=")
			}
			p := w.create("qingyuan", f) // a draft may be incomplete
			_, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version})
			if want == "-" {
				if err != nil {
					t.Fatalf("submit: %v", err)
				}
				return
			}
			var de *engine.Error
			if !errors.As(err, &de) || de.Code != engine.EINVALID {
				t.Fatalf("submit = %v, want invalid", err)
			}
			if got := strings.Join(de.Fields, ","); got != want {
				t.Errorf("Fields = %s, want %s", got, want)
			}
			for _, name := range de.Fields {
				zh, en := rules.FigureLabel(name)
				if !strings.Contains(de.Text("zh"), zh) || !strings.Contains(de.Text("en"), en) {
					t.Errorf("message does not name %s: %q / %q", name, de.Text("zh"), de.Text("en"))
				}
			}
			if after, _ := w.db.Project(w.ctx, p.ID); after.State != engine.StateDraft || after.Version != p.Version {
				t.Errorf("refused submit changed the draft: %s v%d", after.State, after.Version)
			}
		})
	}
	t.Run("ErrDivisionCodeAtSubmit", func(t *testing.T) {
		f := goodFigures()
		f.IndustryCode = "C39" // a division: a draft may hold it, screening needs the class
		p := w.create("qingyuan", f)
		_, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version})
		var de *engine.Error
		if !errors.As(err, &de) || de.Field != "industry_code" || !strings.Contains(de.Text("zh"), "大类") {
			t.Fatalf("submit = %v, want the industry code refused as a division", err)
		}
	})
	t.Run("ErrFigureBeyondWhatAHumanMeans", func(t *testing.T) {
		f := goodFigures()
		f.TotalInvestment = fp(1e308)
		_, err := w.svc.CreateProject(w.ctx, w.users["promoter-qingyuan"], input("qingyuan", f))
		var de *engine.Error
		if !errors.As(err, &de) || de.Field != "total_investment" {
			t.Fatalf("create = %v, want total_investment refused", err)
		}
	})
}
