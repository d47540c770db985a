package main

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDemoShares: the demo's bureaus each have a project shared with them
// (抄送给我), 自然资源局's read and logged, 生态环境局's still new. It reads a
// copy of the run's one `zonevet init --demo` (seeding its own demo under the
// race detector took minutes).
func TestDemoShares(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "demo.db")
	demoDatabase(t, db)
	a, err := openApp(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for name, wantNew := range map[string]bool{"natres1": false, "ecoenv1": true} {
		u, err := a.db.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := a.svc.SharedWithMe(ctx, u)
		if err != nil || len(ss) != 1 || ss[0].New != wantNew || ss[0].Department != u.Department {
			t.Errorf("%s: shared with me = %+v, %v", name, ss, err)
		}
	}
}
