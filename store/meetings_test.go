package store_test

import (
	"context"
	"reflect"
	"testing"

	"zonevet/engine"
)

// TestAgendaProjects: a meeting's agenda read whole, on either store: its
// projects (and no other meeting's, nor one off every agenda) by id as a
// list row shows them, and exactly the conflicts declared on them, as
// Conflicts reads them one project at a time.
func TestAgendaProjects(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	m1, m2 := mustUser(t, db, "member1"), mustUser(t, db, "member2")
	var ps []*engine.Project
	for _, name := range []string{"议程一", "议程二", "不在议程", "另一会议"} {
		ps = append(ps, mustCreate(t, db, sampleProject("qingyuan", name)))
	}
	declare := func(p *engine.Project, user int64, name string) {
		t.Helper()
		c := &engine.Conflict{ProjectID: p.ID, UserID: user, Username: name, Reason: "亲属"}
		if err := db.Apply(ctx, &engine.Change{Conflict: c, Entry: engine.AuditEntry{Event: engine.EventConflict, ProjectID: p.ID, Park: p.Park}}); err != nil {
			t.Fatal(err)
		}
	}
	declare(ps[0], m2, "member2")
	declare(ps[0], m1, "member1")
	declare(ps[2], m1, "member1")
	declare(ps[3], m2, "member2")
	open := func(agenda ...*engine.Project) int64 {
		t.Helper()
		m := &engine.Meeting{Park: "qingyuan", HeldOn: "2026-12-01", Number: "清高管纪〔2026〕1号", Chair: "member1",
			Members: []string{"member1", "member2"}, Present: []string{"member1", "member2"}}
		for _, p := range agenda {
			m.Agenda = append(m.Agenda, engine.AgendaItem{ProjectID: p.ID, ProjectName: p.Name})
		}
		if err := db.Apply(ctx, &engine.Change{Meeting: &engine.MeetingPart{Meeting: m}, Entry: engine.AuditEntry{Event: engine.EventMeeting, Park: "qingyuan"}}); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	first := open(ps[1], ps[0]) // the agenda's order is not the read's: by id
	second := open(ps[3])
	for _, c := range []struct {
		name    string
		meeting int64
		want    []*engine.Project
	}{
		{"TwoItems", first, ps[:2]},
		{"OneItem", second, ps[3:]},
		{"UnknownMeeting", second + 100, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, cs, err := db.AgendaProjects(ctx, c.meeting)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d projects, want %d", len(got), len(c.want))
			}
			var wantCs []engine.Conflict
			for i, w := range c.want {
				full, err := db.Project(ctx, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				p := got[i]
				if p.ID != full.ID || p.Park != full.Park || p.Name != full.Name || p.InvestorName != full.InvestorName || p.State != full.State ||
					p.Version != full.Version || p.CreatedBy != full.CreatedBy || !p.CreatedAt.Equal(full.CreatedAt) ||
					p.Report != nil || p.ReportJSON != "" || *p.Figures.TotalInvestment != *full.Figures.TotalInvestment {
					t.Fatalf("project %d = %+v, want %+v as a list row shows it", i, p, full)
				}
				pcs, err := db.Conflicts(ctx, w.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantCs = append(wantCs, pcs...)
			}
			if !reflect.DeepEqual(cs, wantCs) {
				t.Fatalf("conflicts = %+v, want %+v", cs, wantCs)
			}
		})
	}
}

// TestMeetingsOfParks: the meetings list of a member's parks, newest first,
// on either store: only those parks' meetings, and none for no park.
func TestMeetingsOfParks(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	mustUser(t, db, "member1")
	open := func(park string) int64 {
		t.Helper()
		p := mustCreate(t, db, sampleProject(park, "上会项目"))
		m := &engine.Meeting{Park: park, HeldOn: "2026-12-01", Number: "管纪〔2026〕1号", Chair: "member1",
			Members: []string{"member1"}, Present: []string{"member1"}, Agenda: []engine.AgendaItem{{ProjectID: p.ID, ProjectName: p.Name}}}
		if err := db.Apply(ctx, &engine.Change{Meeting: &engine.MeetingPart{Meeting: m}, Entry: engine.AuditEntry{Event: engine.EventMeeting, Park: park}}); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	q1, y1, q2 := open("qingyuan"), open("yingde"), open("qingyuan")
	for _, c := range []struct {
		parks []string
		want  []int64
	}{
		{[]string{"qingyuan"}, []int64{q2, q1}},
		{[]string{"yingde"}, []int64{y1}},
		{[]string{"qingyuan", "yingde"}, []int64{q2, y1, q1}},
		{nil, nil},
	} {
		ms, err := db.Meetings(ctx, c.parks)
		if err != nil {
			t.Fatalf("meetings of %v: %v", c.parks, err)
		}
		var got []int64
		for _, m := range ms {
			got = append(got, m.ID)
			if len(m.Agenda) != 1 {
				t.Fatalf("meeting %d: agenda %+v, want its one item", m.ID, m.Agenda)
			}
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("meetings of %v = %v, want %v", c.parks, got, c.want)
		}
	}
}
