package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerVerbsAPIRoutes registers the everyday verbs for machines beside
// POST /projects/{id}/actions (which already takes recall, remind, a
// return's fix list and on_behalf_of): delegations (委托) listed, made and
// revoked; shares (抄送) of a project and what is shared with the caller;
// the inbox and marking it read. Each calls the engine as its page does,
// so the guards and the log entries are the page's.
func (s *Server) registerVerbsAPIRoutes(a *echo.Group) {
	a.GET("/delegations", s.handleAPIDelegations)
	a.POST("/delegations", s.handleAPIDelegationCreate)
	a.POST("/delegations/:did/revoke", s.handleAPIDelegationRevoke)
	a.GET("/projects/:id/shares", s.handleAPIProjectShares)
	a.POST("/projects/:id/shares", s.handleAPIProjectShare)
	a.POST("/projects/:id/shares/:sid/revoke", s.handleAPIShareRevoke)
	a.GET("/shared", s.handleAPISharedWithMe)
	a.GET("/inbox", s.handleAPIInbox)
	a.POST("/inbox/read", s.handleAPIInboxRead)
}

func (s *Server) handleAPIDelegations(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	ds, err := s.svc.Delegations(c.Request().Context(), currentUser(c), park)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNil(ds))
}

func (s *Server) handleAPIDelegationCreate(c echo.Context) error {
	var in engine.DelegationInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.bodyPark(c, in.Park); err != nil {
		return err
	}
	answering(c, http.StatusCreated)
	d, err := s.svc.Delegate(c.Request().Context(), currentUser(c), in)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, d)
}

// bodyPark refuses a request body that names no park, or one the token does not reach.
func (s *Server) bodyPark(c echo.Context, park string) error {
	if park == "" {
		return engine.FieldFail("park", "err.give_park", nil)
	}
	_, err := s.tokenParkFilter(c, []string{park})
	return err
}

// delegationRevoke is the body of POST /delegations/{did}/revoke.
type delegationRevoke struct {
	Park string `json:"park"`
}

func (s *Server) handleAPIDelegationRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("did"), 10, 64)
	if err != nil || id <= 0 {
		return engine.Fail(engine.ENOTFOUND, "err.delegation_not_found", nil)
	}
	var in delegationRevoke
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.bodyPark(c, in.Park); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	answering(c, http.StatusOK)
	if err := s.svc.RevokeDelegation(ctx, u, in.Park, id); err != nil {
		return err
	}
	ds, err := s.svc.Delegations(ctx, u, in.Park)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.ID == id {
			return answer(c, http.StatusOK, d)
		}
	}
	return engine.Fail(engine.ENOTFOUND, "err.delegation_not_found", nil)
}

func (s *Server) handleAPIProjectShares(c echo.Context) error {
	p, err := s.apiProject(c)
	if err != nil {
		return err
	}
	ss, err := s.svc.Shares(c.Request().Context(), currentUser(c), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, nonNil(ss))
}

func (s *Server) handleAPIProjectShare(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var in engine.ShareInput
	if err := s.decodeJSON(c, &in); err != nil {
		return s.unlessUnreadable(c, id, err)
	}
	answering(c, http.StatusCreated)
	ss, err := s.svc.ShareProject(c.Request().Context(), currentUser(c), id, in)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, ss)
}

// handleAPIShareRevoke revokes one share (撤销抄送) as the dossier's button
// does: its sharer or an admin of the park; the answer is the share, revoked.
func (s *Server) handleAPIShareRevoke(c echo.Context) error {
	id, sid, err := shareIDs(c)
	if err != nil {
		return err
	}
	answering(c, http.StatusOK)
	x, err := s.svc.RevokeShare(c.Request().Context(), currentUser(c), id, sid)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, x)
}

func (s *Server) handleAPISharedWithMe(c echo.Context) error {
	ss, err := s.svc.SharedWithMe(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	out := []engine.Share{}
	for _, x := range ss {
		if keep, _ := s.tokenParkFilter(c, []string{x.Park}); len(keep) > 0 {
			out = append(out, x)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// inboxAnswer is GET /inbox: the newest notifications and the unread count.
type inboxAnswer struct {
	Items  []engine.Notification `json:"items"`
	Unread int                   `json:"unread"`
}

func (s *Server) handleAPIInbox(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return engine.FieldFail("limit", "err.limit_must_be_1_500", nil)
		}
		limit = n
	}
	ctx, u := c.Request().Context(), currentUser(c)
	items, err := s.svc.Inbox(ctx, u, limit)
	if err != nil {
		return err
	}
	n, err := s.svc.Unread(ctx, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inboxAnswer{Items: nonNil(items), Unread: n})
}

// inboxRead is the body of POST /inbox/read: the notifications to mark
// read, none for all of the caller's.
type inboxRead struct {
	IDs []int64 `json:"ids,omitempty"`
}

// handleAPIInboxRead marks notifications read. Marking read is delivery's
// bookkeeping, not a decision (engine.NotificationStore): a read-only
// token may do it, and it writes no log entry.
func (s *Server) handleAPIInboxRead(c echo.Context) error {
	var in inboxRead
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	if err := s.svc.MarkRead(ctx, u, in.IDs); err != nil {
		return err
	}
	n, err := s.svc.Unread(ctx, u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"unread": n})
}

// nonNil answers an empty list as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
