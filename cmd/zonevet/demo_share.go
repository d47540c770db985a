package main

import (
	"context"
	"fmt"

	"zonevet/engine"
)

// seedShares gives qingyuan two bureaus' staff (知会单位: 自然资源局 and
// 生态环境局, observer role) and shares two projects under review with
// them, as the zone asks those bureaus about land and environment: the
// reviewer asks 自然资源局, whose staff member has read it (a logged
// share_view); the promoter sends 生态环境局 a copy still unread. The
// reviewer's copy of the first project to 生态环境局's 林科长 went by
// mistake and was revoked, so the dossier shows a revoked share and
// 林科长's inbox says it was taken back.
func seedShares(ctx context.Context, a *app, users map[string]*engine.User) error {
	bureaus := []struct{ name, display, department string }{
		{"natres1", "何科长", "自然资源局"},
		{"ecoenv1", "林科长", "生态环境局"},
	}
	for _, b := range bureaus {
		u, err := a.svc.CreateUserIn(ctx, b.name, b.display, b.department, demoPassword,
			[]engine.RoleAssignment{{Role: engine.RoleObserver, Park: "qingyuan"}})
		if err != nil {
			return fmt.Errorf("demo bureau user %s: %w", b.name, err)
		}
		users[b.name] = u
	}
	if err := a.svc.ReloadRoles(ctx); err != nil {
		return err
	}
	ps, _, err := a.svc.Projects(ctx, users["reviewer1"], engine.ProjectFilter{Parks: []string{"qingyuan"},
		States: []engine.State{engine.StateScreening, engine.StateExpertReview, engine.StateCommitteeReview}, Sort: "id", Limit: 10})
	if err != nil {
		return err
	}
	if len(ps) < 2 {
		return fmt.Errorf("demo shares: %d projects under review in qingyuan, want 2", len(ps))
	}
	if _, err := a.svc.ShareProject(ctx, users["reviewer1"], ps[0].ID, engine.ShareInput{Departments: []string{"自然资源局"},
		Note: "请核对用地规划条件和土地出让价格"}); err != nil {
		return fmt.Errorf("demo share: %w", err)
	}
	if _, err := a.svc.ViewProject(ctx, users["natres1"], ps[0].ID); err != nil {
		return fmt.Errorf("demo share read: %w", err)
	}
	wrong, err := a.svc.ShareProject(ctx, users["reviewer1"], ps[0].ID, engine.ShareInput{Users: []string{"ecoenv1"}, Note: "请核对用地规划条件"})
	if err != nil {
		return fmt.Errorf("demo share: %w", err)
	}
	if _, err := a.svc.RevokeShare(ctx, users["reviewer1"], ps[0].ID, wrong[0].ID); err != nil {
		return fmt.Errorf("demo share revoke: %w", err)
	}
	sharer := users["committee1"]
	if ps[1].CreatedBy == users["promoter1"].ID {
		sharer = users["promoter1"] // its promoter may share their own project
	}
	if _, err := a.svc.ShareProject(ctx, sharer, ps[1].ID, engine.ShareInput{Departments: []string{"生态环境局"},
		Note: "项目涉及电镀工序,请提前了解环评要求"}); err != nil {
		return fmt.Errorf("demo share: %w", err)
	}
	return nil
}
