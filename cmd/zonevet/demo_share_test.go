package main

import (
	"context"
	"path/filepath"
	"testing"

	"zonevet/engine"
)

// TestDemoShares: the demo's bureaus each have a project shared with them
// (抄送给我), 自然资源局's read and logged, 生态环境局's still new; the
// copy sent to 林科长 by mistake is revoked and his inbox says so. It reads a
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
	eco, err := a.db.UserByName(ctx, "ecoenv1")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := a.svc.Inbox(ctx, eco, 20)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, n := range ns {
		kinds[n.Kind]++
	}
	if kinds[engine.NoticeShareRevoked] != 1 || kinds[engine.NoticeShare] != 2 {
		t.Errorf("林科长's inbox kinds = %v, want two shares and one revocation", kinds)
	}
	for _, n := range ns {
		if n.Kind != engine.NoticeShareRevoked {
			continue
		}
		rv, err := a.db.UserByName(ctx, "reviewer1")
		if err != nil {
			t.Fatal(err)
		}
		ss, err := a.svc.Shares(ctx, rv, n.ProjectID)
		if err != nil || len(ss) != 2 || ss[0].Live() == ss[1].Live() {
			t.Errorf("the dossier's shares = %+v, %v; want one live and one revoked", ss, err)
		}
	}
}
