package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// 抄送/知会 (share): the project page's share card, the form that shares
// a project, and the "抄送给我" page of what is shared with the user, new
// ones marked until read (engine/share.go).
func (s *Server) registerShareRoutes(e *echo.Echo) {
	e.POST("/projects/:id/share", s.handleProjectShare, requireUser)
	e.POST("/projects/:id/shares/:sid/revoke", s.handleShareRevoke, requireUser)
	e.GET("/shared", s.handleSharedWithMe, requireUser)
}

// shareView is the project page's share card: the project's shares (the
// revoked ones marked), those the user may revoke, and when the user may
// share it, whom with.
type shareView struct {
	Shares    []engine.Share
	Revocable map[int64]bool
	CanShare  bool
	Targets   engine.ShareTargets
}

func (s *Server) shareViewOf(ctx context.Context, u *engine.User, p *engine.Project) (shareView, error) {
	var v shareView
	var err error
	if v.Shares, err = s.svc.Shares(ctx, u, p.ID); err != nil {
		return v, err
	}
	v.Revocable = map[int64]bool{}
	for _, x := range v.Shares {
		v.Revocable[x.ID] = s.svc.CanRevokeShare(u, p, x)
	}
	if v.CanShare = s.svc.CanShare(u, p); !v.CanShare {
		return v, nil
	}
	all, err := s.svc.ShareTargets(ctx, u, p)
	// The form offers only whom it is not shared with yet.
	for _, x := range all.Users {
		if !slices.ContainsFunc(v.Shares, func(sh engine.Share) bool { return sh.Live() && sh.Username == x.Username }) {
			v.Targets.Users = append(v.Targets.Users, x)
		}
	}
	for _, d := range all.Departments {
		if !slices.ContainsFunc(v.Shares, func(sh engine.Share) bool { return sh.Live() && sh.Department == d }) {
			v.Targets.Departments = append(v.Targets.Departments, d)
		}
	}
	return v, err
}

// NewShares counts what is shared with the page's user and unread, for the nav's badge.
func (p *page) NewShares() int { return p.s.svc.NewShares(context.Background(), p.User) }

func (s *Server) handleProjectShare(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := engine.ShareInput{Users: form["user"], Departments: form["department"], Note: c.FormValue("note")}
	shares, err := s.svc.ShareProject(c.Request().Context(), currentUser(c), id, in)
	if err != nil {
		return s.actionFailed(c, id, err, nil)
	}
	s.flash(c, true, s.i18n.T(s.lang(c), "page.share.done", map[string]any{"N": len(shares)}))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d#shares", id))
}

// handleShareRevoke revokes one share of the project (its sharer, or an
// admin of the park); a refusal comes back on the project page.
func (s *Server) handleShareRevoke(c echo.Context) error {
	id, sid, err := shareIDs(c)
	if err != nil {
		return err
	}
	if _, err := s.svc.RevokeShare(c.Request().Context(), currentUser(c), id, sid); err != nil {
		return s.actionFailed(c, id, err, nil)
	}
	s.flash(c, true, s.t(c, "page.verbs2.share_revoked"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d#shares", id))
}

// shareIDs are the project and the share a revoke route names.
func shareIDs(c echo.Context) (id, sid int64, err error) {
	if id, err = projectID(c); err != nil {
		return 0, 0, err
	}
	sid, err = strconv.ParseInt(c.Param("sid"), 10, 64)
	if err != nil || sid <= 0 {
		return 0, 0, engine.Fail(engine.ENOTFOUND, "err.share_not_found", nil)
	}
	return id, sid, nil
}

func (s *Server) handleSharedWithMe(c echo.Context) error {
	ctx := c.Request().Context()
	shares, err := s.svc.SharedWithMe(ctx, currentUser(c))
	if err != nil {
		return err
	}
	parks, err := s.svc.AllParks(ctx)
	if err != nil {
		return err
	}
	pd := s.page(c, s.t(c, "page.share.mine_title"))
	pd.Data = struct {
		Shares    []engine.Share
		ParkNames map[string]string
	}{shares, s.parkNames(parks, s.lang(c))}
	return s.render(c, http.StatusOK, "shared", pd)
}

// ReadsProjects reports whether the page's user may read projects in some
// park: everyone but a 知会单位 (observer), who reads only what is shared
// with them, so the project list, ratings, delegations and dashboard are
// left out of their menu.
func (p *page) ReadsProjects() bool {
	if p.User == nil {
		return false
	}
	parks, err := p.s.svc.ReadableParks(context.Background(), p.User)
	return err == nil && len(parks) > 0
}
