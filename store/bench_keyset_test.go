package store_test

import (
	"context"
	"testing"

	"zonevet/engine"
)

// BenchmarkProjectsListKeyset100k reads the next page from the middle of
// the list by keyset (After the last row of the page at the middle), as the
// web's "next" link does, where BenchmarkProjectsList100k's middle pages
// skip by offset.
func BenchmarkProjectsListKeyset100k(b *testing.B) {
	db := seed100k(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    engine.ProjectFilter
	}{
		{"ParkMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "-updated", Limit: 50, Offset: half(50000)}},
		{"ParkStateMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, States: []engine.State{engine.StateDraft}, Sort: "-updated", Limit: 50, Offset: half(3846)}},
		{"ParkByDueMiddlePage", engine.ProjectFilter{Parks: []string{"qingyuan"}, Sort: "due", Limit: 50, Offset: half(50000)}},
		{"QueryManyHitsMiddle", engine.ProjectFilter{Parks: []string{"qingyuan"}, Query: "有限公司", Sort: "-updated", Limit: 50, Offset: half(49950)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ps, _, err := db.Projects(ctx, bc.f)
			if err != nil || len(ps) == 0 {
				b.Fatal(len(ps), err)
			}
			c := engine.CursorAt(bc.f.Sort, ps[len(ps)-1])
			f := bc.f
			f.Offset, f.After = 0, &c
			for b.Loop() {
				if ps, _, err := db.Projects(ctx, f); err != nil || len(ps) == 0 {
					b.Fatal(len(ps), err)
				}
			}
		})
	}
}
