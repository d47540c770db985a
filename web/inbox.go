package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// The inbox (消息): what waits on the user, reminders and news of their
// projects; the header's badge counts the unread. Administrators also see
// the outbox's failed sends here.
func (s *Server) registerInboxRoutes(e *echo.Echo) {
	g := e.Group("/inbox", requireUser)
	g.GET("", s.handleInbox)
	g.POST("/read", s.handleInboxRead)
}

// Unread is the page user's unread notifications, for the header badge.
func (p *page) Unread() int {
	n, _ := p.s.svc.Unread(context.Background(), p.User)
	return n
}

type inboxData struct {
	Items   []engine.Notification
	Unread  int
	Outbox  []engine.OutboxItem
	IsAdmin bool
}

func (s *Server) handleInbox(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	var d inboxData
	var err error
	if d.Items, err = s.svc.Inbox(ctx, u, 200); err != nil {
		return err
	}
	for _, n := range d.Items {
		if n.ReadAt == nil {
			d.Unread++
		}
	}
	if d.IsAdmin = s.svc.CanSeeOutbox(u); d.IsAdmin {
		if d.Outbox, err = s.svc.Outbox(ctx, u, 50); err != nil {
			return err
		}
	}
	pd := s.page(c, s.t(c, "page.inbox.title"))
	pd.Data = d
	return s.render(c, http.StatusOK, "inbox", pd)
}

// handleInboxRead marks notifications read: the one named by id (then goes
// to its project, when next says so), or all of the user's.
func (s *Server) handleInboxRead(c echo.Context) error {
	var ids []int64
	if v := c.FormValue("id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return engine.FieldFail("id", "err.inbox_bad_id", nil)
		}
		ids = append(ids, id)
	}
	if err := s.svc.MarkRead(c.Request().Context(), currentUser(c), ids); err != nil {
		return err
	}
	if p, err := strconv.ParseInt(c.FormValue("project"), 10, 64); err == nil && p > 0 {
		return c.Redirect(http.StatusSeeOther, "/projects/"+strconv.FormatInt(p, 10))
	}
	return c.Redirect(http.StatusSeeOther, "/inbox")
}
