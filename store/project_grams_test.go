package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"

	"zonevet/engine"
)

// TestProjectGramsFollowChanges keeps project_grams (migration 00440) equal
// to the pairs of characters beyond ASCII of every project's name and
// investor, computed here from the table, through the ways rows change:
// created, renamed through Apply, investor and park changed and rows
// deleted raw.
func TestProjectGramsFollowChanges(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	seedListRows(t, db, 40)
	check := func(step string) {
		t.Helper()
		rows, err := db.Writer().Query(`SELECT park, id, name, investor_name FROM projects`)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			var park, name, investor string
			var id int64
			if err := rows.Scan(&park, &id, &name, &investor); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{name, investor} {
				r := []rune(s)
				for i := 0; i+1 < len(r); i++ {
					if r[i] >= utf8.RuneSelf && r[i+1] >= utf8.RuneSelf {
						want = append(want, fmt.Sprintf("%s|%s|%d", string(r[i:i+2]), park, id))
					}
				}
			}
		}
		rows.Close()
		slices.Sort(want)
		want = slices.Compact(want)
		rows, err = db.Writer().Query(`SELECT gram, park, id FROM project_grams`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var gram, park string
			var id int64
			if err := rows.Scan(&gram, &park, &id); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s|%s|%d", gram, park, id))
		}
		rows.Close()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: project_grams %d rows, want %d:\n%v\nwant %v", step, len(got), len(want), got, want)
		}
	}
	check("created")
	p, err := db.Project(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "铜箔项目二期 铜箔"
	if err := db.Apply(ctx, &engine.Change{Project: p, ExpectedVersion: p.Version, Entry: engine.AuditEntry{Event: engine.EventUpdate}}); err != nil {
		t.Fatal(err)
	}
	check("renamed")
	if _, err := db.Writer().Exec(`UPDATE projects SET investor_name = 'Ä清远AB科技' WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().Exec(`UPDATE projects SET park = 'yingde' WHERE id = 6 AND park <> 'yingde'`); err != nil {
		t.Fatal(err)
	}
	check("investor and park changed")
	if _, err := db.Writer().Exec(`DELETE FROM projects WHERE id IN (4, 9)`); err != nil {
		t.Fatal(err)
	}
	check("deleted")
	ps, n, err := db.Projects(ctx, engine.ProjectFilter{Query: "铜箔"})
	if err != nil || n != 1 || len(ps) != 1 || ps[0].ID != 3 {
		t.Fatalf("search 铜箔 after the rename: %v total %d, %v; want project 3 alone", pageIDs(ps), n, err)
	}
}
