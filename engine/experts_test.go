package engine_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"zonevet/engine"
)

// investorUSCC is the USCC of input()'s investor; tiedUSCC another valid one.
const (
	investorUSCC = "91440300708461136T"
	tiedUSCC     = "91110000600037341L"
)

// expert adds an expert to park's pool on a new reviewer account name, with
// edit applied to the form first.
func (w *world) expert(park, name string, edit func(*engine.ExpertInput)) *engine.Expert {
	w.t.Helper()
	if w.users[name] == nil {
		w.user(name, engine.RoleAssignment{Role: engine.RoleReviewer, Park: park})
	}
	in := engine.ExpertInput{Park: park, Username: name, Name: "专家" + name, Fields: []string{"C39"},
		EmployerName: "华南理工大学", Active: true}
	if edit != nil {
		edit(&in)
	}
	x, err := w.svc.SaveExpert(w.ctx, w.users["admin-"+park], in)
	if err != nil {
		w.t.Fatalf("expert %s: %v", name, err)
	}
	return x
}

// pool adds n plain experts (expert1-park …) and returns them.
func (w *world) pool(park string, n int) []*engine.Expert {
	var out []*engine.Expert
	for i := 1; i <= n; i++ {
		out = append(out, w.expert(park, fmt.Sprintf("expert%d-%s", i, park), nil))
	}
	return out
}

// intoReview creates a qingyuan project and moves it into expert review
// (submit, pass), drawing its experts when the park keeps a pool.
func (w *world) intoReview() *engine.Project {
	w.t.Helper()
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	return w.act("reviewer-qingyuan", p, engine.EventPass, "")
}

// drawn returns the experts drawn (not recused) for p's round, by user name.
func (w *world) drawn(p *engine.Project) []string {
	w.t.Helper()
	ds, err := w.db.DrawnExperts(w.ctx, p.ID, p.Round)
	if err != nil {
		w.t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		if !d.Recused {
			u, err := w.db.UserByID(w.ctx, d.UserID)
			if err != nil {
				w.t.Fatal(err)
			}
			names = append(names, u.Username)
		}
	}
	return names
}

// drawEntries returns the project's draw entries in log order.
func (w *world) drawEntries(p *engine.Project) []engine.AuditEntry {
	w.t.Helper()
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventDraw}})
	if err != nil {
		w.t.Fatal(err)
	}
	return es
}

// exportLog is the whole decision log as the JSONL export an auditor downloads.
func (w *world) exportLog() []byte {
	w.t.Helper()
	var buf bytes.Buffer
	aw, err := engine.NewAuditWriter(&buf, "jsonl", nil, engine.ExportLabels{})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.db.EachAuditEntry(w.ctx, func(e engine.AuditEntry) error { return aw.Entry(&e) }); err != nil {
		w.t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		w.t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDrawExcludesPromoterAndConflicted: of a pool where one expert is the
// project's own promoter, one works for the investor, one is tied to it by
// a declared relationship, one shares the investor's name as employer and
// one is inactive, only the three clean experts can be drawn — and with N
// = 3 all three are, each exclusion logged with its reason.
func TestDrawExcludesPromoterAndConflicted(t *testing.T) {
	w := mustWorld(t)
	dual := w.user("dual-qingyuan", engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"},
		engine.RoleAssignment{Role: engine.RoleReviewer, Park: "qingyuan"})
	excluded := map[int64]string{
		w.expert("qingyuan", "dual-qingyuan", nil).ID:                                                                       "promoter",
		w.expert("qingyuan", "staff", func(in *engine.ExpertInput) { in.EmployerUSCC = investorUSCC }).ID:                   "employer",
		w.expert("qingyuan", "cousin", func(in *engine.ExpertInput) { in.Relations = []string{tiedUSCC, investorUSCC} }).ID: "relation",
		w.expert("qingyuan", "namesake", func(in *engine.ExpertInput) { in.EmployerName = "清远华科新材料股份有限公司" }).ID:             "employer",
		w.expert("qingyuan", "retired", func(in *engine.ExpertInput) { in.Active = false }).ID:                              "inactive",
	}
	w.pool("qingyuan", 3)
	p, err := w.svc.CreateProject(w.ctx, dual, input("qingyuan", goodFigures()))
	if err != nil {
		t.Fatal(err)
	}
	p = w.act("dual-qingyuan", p, engine.EventSubmit, "")
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	got := w.drawn(p)
	slices.Sort(got)
	if want := []string{"expert1-qingyuan", "expert2-qingyuan", "expert3-qingyuan"}; !slices.Equal(got, want) {
		t.Fatalf("drawn = %v, want %v", got, want)
	}
	es := w.drawEntries(p)
	if len(es) != 1 {
		t.Fatalf("%d draw entries, want 1", len(es))
	}
	d, err := engine.VerifyDraw(engine.AuditEntry{}, es[0])
	if d == nil {
		t.Fatal(err)
	}
	gotEx := map[int64]string{}
	for _, x := range d.Excluded {
		gotEx[x.ID] = x.Reason
	}
	if fmt.Sprint(gotEx) != fmt.Sprint(excluded) {
		t.Fatalf("excluded = %v, want %v", gotEx, excluded)
	}
}

// TestDrawRecomputedFromLog: an auditor recomputes every draw from the
// exported JSONL log alone and gets the experts the system drew; a draw
// whose logged result was changed is found out.
func TestDrawRecomputedFromLog(t *testing.T) {
	w := mustWorld(t)
	w.pool("qingyuan", 7)
	var ps []*engine.Project
	for range 3 {
		ps = append(ps, w.intoReview())
	}
	log := w.exportLog()
	seen := map[string]bool{}
	for _, p := range ps {
		e := w.drawEntries(p)[0]
		d, err := engine.VerifyDrawInExport(bytes.NewReader(log), e.Seq)
		if err != nil {
			t.Fatalf("project %d: %v", p.ID, err)
		}
		ds, err := w.db.DrawnExperts(w.ctx, p.ID, p.Round)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, x := range ds {
			ids = append(ids, x.ExpertID)
		}
		if !slices.Equal(d.Drawn, ids) || len(ids) != 3 || d.SeedSeq != e.Seq-1 {
			t.Fatalf("project %d: recomputed %v (seed entry %d), stored %v (draw entry %d)", p.ID, d.Drawn, d.SeedSeq, ids, e.Seq)
		}
		seen[fmt.Sprint(ids)] = true
		// Forged: another expert written in as drawn.
		forged := e
		forged.Payload = strings.Replace(e.Payload, fmt.Sprintf(`"drawn":[%d`, ids[0]), fmt.Sprintf(`"drawn":[%d`, ids[0]+100), 1)
		prev, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(prev, func(x engine.AuditEntry) bool { return x.Seq == d.SeedSeq })
		if _, err := engine.VerifyDraw(prev[i], forged); err == nil || forged.Payload == e.Payload {
			t.Fatalf("project %d: a forged draw verifies", p.ID)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("three draws from a pool of 7 all drew %v: the seed does not vary", seen)
	}
}

// TestRecusalReplacementDraw: a drawn expert who declares a conflict is
// replaced by a new draw from those not drawn before, logged and
// recomputable the same way; the recused expert can no longer score.
func TestRecusalReplacementDraw(t *testing.T) {
	w := mustWorld(t)
	w.pool("qingyuan", 5)
	p := w.intoReview()
	before := w.drawn(p)
	out := before[1]
	if err := w.svc.DeclareConflict(w.ctx, w.users[out], p.ID, "本人近亲属在投资方任职"); err != nil {
		t.Fatal(err)
	}
	after := w.drawn(p)
	if len(after) != 3 || slices.Contains(after, out) {
		t.Fatalf("after recusal drawn = %v (before %v), want 3 without %s", after, before, out)
	}
	replacement := after[len(after)-1]
	if slices.Contains(before, replacement) {
		t.Fatalf("replacement %s was already drawn (%v)", replacement, before)
	}
	es := w.drawEntries(p)
	if len(es) != 2 {
		t.Fatalf("%d draw entries, want 2", len(es))
	}
	d, err := engine.VerifyDrawInExport(bytes.NewReader(w.exportLog()), es[1].Seq)
	if err != nil {
		t.Fatal(err)
	}
	if d.Replaces == 0 || len(d.Drawn) != 1 {
		t.Fatalf("replacement draw %+v", d)
	}
	p, err = w.svc.Project(w.ctx, w.users["admin-qingyuan"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Score(w.ctx, w.users[out], p.ID, engine.ScoreInput{Round: p.Round, Items: map[string]float64{}})
	wantCode(t, err, engine.EFORBIDDEN)
	p = w.scoreAll(p, 0.8, after...)
	if p.State != engine.StateCommitteeReview {
		t.Fatalf("after the three drawn scored: %s", p.State)
	}
}

// TestNonDrawnReviewerRefused: a reviewer of the park who was not drawn,
// in the pool or not, may not score; the drawn three carry the review.
func TestNonDrawnReviewerRefused(t *testing.T) {
	w := mustWorld(t)
	w.pool("qingyuan", 4)
	p := w.intoReview()
	drawn := w.drawn(p)
	for _, name := range []string{"expert1-qingyuan", "expert2-qingyuan", "expert3-qingyuan", "expert4-qingyuan", "reviewer2-qingyuan"} {
		if slices.Contains(drawn, name) {
			continue
		}
		rs, _ := w.svc.ActiveRuleSet(w.ctx, "qingyuan")
		items := map[string]float64{}
		for _, c := range rs.Scoring().Criteria {
			items[c.ID] = c.Max
		}
		_, err := w.svc.Score(w.ctx, w.users[name], p.ID, engine.ScoreInput{Round: p.Round, Items: items})
		wantCode(t, err, engine.EFORBIDDEN)
	}
	p = w.scoreAll(p, 0.8, drawn...)
	if p.State != engine.StateCommitteeReview {
		t.Fatalf("after the drawn scored: %s", p.State)
	}
}

// TestDrawLoadLimit: experts at their load limit of open reviews are not
// drawn; with too few left, the move into expert review is refused and the
// project stays in screening; once a review closes they are eligible again.
func TestDrawLoadLimit(t *testing.T) {
	w := mustWorld(t)
	for i := 1; i <= 3; i++ {
		w.expert("qingyuan", fmt.Sprintf("expert%d-qingyuan", i), func(in *engine.ExpertInput) { in.LoadLimit = 1 })
	}
	first := w.intoReview()
	second := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	_, err := w.svc.Act(w.ctx, w.users["reviewer-qingyuan"], second.ID, engine.Action{Event: engine.EventPass, Version: second.Version})
	wantCode(t, err, engine.ECONFLICT)
	if got, _ := w.db.Project(w.ctx, second.ID); got.State != engine.StateScreening {
		t.Fatalf("refused draw left the project in %s", got.State)
	}
	w.scoreAll(first, 0.8, w.drawn(first)...)
	second = w.act("reviewer-qingyuan", second, engine.EventPass, "")
	if len(w.drawn(second)) != 3 {
		t.Fatalf("after the first review closed: drawn %v", w.drawn(second))
	}
}

// TestPassWithDrawNotRecalled: a pass that drew the experts has an effect,
// so its reviewer cannot take it back (the draw stands, as logged).
func TestPassWithDrawNotRecalled(t *testing.T) {
	w := mustWorld(t)
	w.pool("qingyuan", 3)
	p := w.intoReview()
	_, err := w.svc.Act(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.Action{Event: engine.EventRecall, Version: p.Version})
	wantCode(t, err, engine.ECONFLICT)
	if !strings.Contains(engine.ErrorMessage(err, "zh-CN"), "通过初审") {
		t.Fatalf("refusal %q does not name the pass", engine.ErrorMessage(err, "zh-CN"))
	}
}

// TestSealedReview: while the review is open, the promoter's view of the
// project's history names none of the drawn experts (the draw's payload
// and the scorers are withheld); the committee sees them.
func TestSealedReview(t *testing.T) {
	w := mustWorld(t)
	w.pool("qingyuan", 3)
	p := w.intoReview()
	p = w.scoreAll(p, 0.8, w.drawn(p)[0])
	leaks := func(who string) bool {
		es, err := w.svc.History(w.ctx, w.users[who], p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.Contains(e.Actor, "expert") || strings.Contains(e.Payload, `"drawn"`) {
				return true
			}
		}
		return false
	}
	if leaks("promoter-qingyuan") {
		t.Fatal("the promoter's history names a drawn expert while the review is open")
	}
	if !leaks("committee-qingyuan") {
		t.Fatal("the committee's history does not show the draw")
	}
}
