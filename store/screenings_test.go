package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// TestScreeningsFollowEachScreening: the screenings index the what-if
// replay reads (migration 00211, written by the store since 00465) holds,
// per project, the figures and rule version of its latest submit or
// resubmit; another move leaves it, and a copy of the store carries it.
func TestScreeningsFollowEachScreening(t *testing.T) {
	ctx := context.Background()
	db := mustOpenPath(t, storetest.Path(t))
	p := mustCreate(t, db, sampleProject("qingyuan", "高端电子信息制造项目"))
	screen := func(expected int64, event string, version string) {
		t.Helper()
		c := transition(p, expected, event, engine.StateScreening)
		c.Entry.RuleSetVersion = version
		c.Report = &engine.ReportPart{Report: &rules.Report{Park: "qingyuan", RuleSetVersion: version}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
		*p = *c.Project
	}
	move := func(event string, to engine.State) {
		t.Helper()
		c := transition(p, p.Version, event, to)
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
		*p = *c.Project
	}
	want := func(db *store.DB, version string, f rules.Figures) {
		t.Helper()
		var got []engine.ScreenedProject
		if err := db.EachScreenedProject(ctx, "qingyuan", func(sp engine.ScreenedProject) error { got = append(got, sp); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != p.ID || got[0].RuleSetVersion != version {
			t.Fatalf("screened projects %+v, want project %d screened by %s", got, p.ID, version)
		}
		var figures rules.Figures
		if err := json.Unmarshal(got[0].FiguresJSON, &figures); err != nil || !reflect.DeepEqual(figures, f) {
			t.Fatalf("screened figures %s (%v), want %+v", got[0].FiguresJSON, err, f)
		}
	}

	screen(1, engine.EventSubmit, "v1")
	submitted := p.Figures
	want(db, "v1", submitted)
	move(engine.EventReturn, engine.StateReturned)
	want(db, "v1", submitted) // a return is no screening

	p.Figures.TotalInvestment = fp(60000) // corrected while returned
	screen(p.Version, engine.EventResubmit, "v2")
	want(db, "v2", p.Figures)

	copied := openEmpty(t, storetest.Path(t))
	if _, err := db.CopyTo(ctx, copied); err != nil {
		t.Fatal(err)
	}
	want(copied, "v2", p.Figures)
}
