package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// Committee meetings (集体决策): the committee's meetings, opening one with
// its members present and the agenda, each member's ballot per item, the
// decision that follows the vote, and the minutes.
func (s *Server) registerMeetingRoutes(e *echo.Echo) {
	g := e.Group("/meetings", requireUser)
	g.GET("", s.handleMeetings)
	g.POST("", s.handleMeetingOpen)
	g.GET("/:mid", s.handleMeeting)
	g.POST("/:mid/vote", s.handleMeetingVote)
	g.POST("/:mid/decide", s.handleMeetingDecide)
	g.GET("/:mid/minutes/:id", s.handleMeetingMinutes)
}

// CanMeet reports whether the page's user sits on some park's committee (the nav shows meetings).
func (p *page) CanMeet() bool {
	parks, err := p.s.svc.MeetingParks(context.Background(), p.User)
	return err == nil && len(parks) > 0
}

// meetingPark is one park's block of the meetings page: its members and
// agenda, for the form that opens a meeting.
type meetingPark struct {
	Park    engine.Park
	Members []string
	Agenda  []*engine.Project
}

type meetingsData struct {
	Parks    []meetingPark
	Meetings []engine.Meeting
	Error    string
	Today    string
}

func (s *Server) meetingsPage(c echo.Context, status int, d meetingsData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	parks, err := s.svc.MeetingParks(ctx, u)
	if err != nil {
		return err
	}
	if len(parks) == 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.meetings_committee_only", nil)
	}
	for _, p := range parks {
		mp := meetingPark{Park: p}
		if mp.Members, err = s.svc.CommitteeMembers(ctx, u, p.ID); err != nil {
			return err
		}
		if mp.Agenda, err = s.svc.Agenda(ctx, u, p.ID); err != nil {
			return err
		}
		d.Parks = append(d.Parks, mp)
	}
	if d.Meetings, err = s.svc.Meetings(ctx, u); err != nil {
		return err
	}
	d.Today = s.svc.Today().Format("2006-01-02")
	pd := s.page(c, s.t(c, "meetings.title"))
	pd.Data = d
	return s.render(c, status, "meetings", pd)
}

func (s *Server) handleMeetings(c echo.Context) error {
	return s.meetingsPage(c, http.StatusOK, meetingsData{})
}

func (s *Server) handleMeetingOpen(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := engine.MeetingInput{Park: form.Get("park"), HeldOn: form.Get("held_on"), Number: form.Get("number"), Present: form["present"]}
	m, err := s.svc.OpenMeeting(c.Request().Context(), currentUser(c), in)
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.t(c, "meetings.opened"))
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/meetings/%d", m.ID))
	case engine.EINVALID, engine.ECONFLICT:
		return s.meetingsPage(c, statusOf[engine.ErrorCode(err)], meetingsData{Error: engine.ErrorMessage(err, s.lang(c))})
	}
	return err
}

// meetingItem is one agenda item as the meeting page shows it.
type meetingItem struct {
	Item    engine.AgendaItem
	Project *engine.Project
	Tally   engine.Tally
	MyVote  *engine.Vote
	CanVote bool
}

type meetingData struct {
	Meeting *engine.Meeting
	Items   []meetingItem
	Present bool
	Error   string
}

func meetingID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("mid"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.meeting_not_found", nil)
	}
	return id, nil
}

func (s *Server) meetingPage(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	id, err := meetingID(c)
	if err != nil {
		return err
	}
	v, err := s.svc.MeetingDetail(ctx, u, id)
	if err != nil {
		return err
	}
	d := meetingData{Meeting: v.Meeting, Error: errMsg}
	for _, name := range v.Meeting.Present {
		d.Present = d.Present || name == u.Username
	}
	for _, it := range v.Meeting.Agenda {
		p := v.Projects[it.ProjectID] // as a list row shows it: what an item shows, without its report
		mi := meetingItem{Item: it, Project: p, Tally: v.Tallies[it.ProjectID]}
		voter := false
		for _, n := range mi.Tally.Voters {
			voter = voter || n == u.Username
		}
		for i, vt := range mi.Tally.Votes {
			if vt.Voter == u.Username {
				mi.MyVote = &mi.Tally.Votes[i]
			}
		}
		mi.CanVote = voter && mi.MyVote == nil && it.Outcome == "" && p.State == engine.StateCommitteeReview
		d.Items = append(d.Items, mi)
	}
	pd := s.page(c, s.t(c, "meetings.meeting")+" "+v.Meeting.Number)
	pd.Data = d
	return s.render(c, status, "meeting", pd)
}

func (s *Server) handleMeeting(c echo.Context) error {
	return s.meetingPage(c, http.StatusOK, "")
}

// readableMeeting checks u sits on the meeting's committee, so anyone else
// gets a 404 for every command on it, as for a project they cannot see.
func (s *Server) readableMeeting(c echo.Context) (int64, int64, error) {
	mid, err := meetingID(c)
	if err != nil {
		return 0, 0, err
	}
	pid, err := strconv.ParseInt(c.FormValue("project"), 10, 64)
	if err != nil || pid <= 0 {
		pid, err = strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || pid <= 0 {
			return 0, 0, engine.Fail(engine.ENOTFOUND, "err.meeting_item_not_on_agenda", nil)
		}
	}
	// The item alone: the whole meeting, every item's tally, would cost
	// each vote on an agenda of thousands seconds (BENCHMARKS.md, issue 16).
	if _, err := s.svc.MeetingItem(c.Request().Context(), currentUser(c), mid, pid); err != nil {
		return 0, 0, err
	}
	return mid, pid, nil
}

// meetingRefusal shows a refused vote or decision on the meeting page, or
// passes other errors (not found, internal) on.
func (s *Server) meetingRefusal(c echo.Context, err error) error {
	switch code := engine.ErrorCode(err); code {
	case engine.EINVALID, engine.ECONFLICT, engine.EFORBIDDEN:
		return s.meetingPage(c, statusOf[code], engine.ErrorMessage(err, s.lang(c)))
	}
	return err
}

func (s *Server) handleMeetingVote(c echo.Context) error {
	mid, pid, err := s.readableMeeting(c)
	if err != nil {
		return err
	}
	_, err = s.svc.CastVote(c.Request().Context(), currentUser(c), mid, pid,
		engine.VoteInput{Choice: c.FormValue("choice"), Opinion: c.FormValue("opinion")})
	if err != nil {
		return s.meetingRefusal(c, err)
	}
	s.flash(c, true, s.t(c, "meetings.voted"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/meetings/%d#item-%d", mid, pid))
}

// handleMeetingDecide announces the meeting's decision on an item (decideInMeeting).
func (s *Server) handleMeetingDecide(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	mid, pid, err := s.readableMeeting(c)
	if err != nil {
		return err
	}
	version, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil {
		return s.meetingRefusal(c, engine.ErrStale())
	}
	if _, err := s.decideInMeeting(ctx, u, mid, pid, c.FormValue("event"), version); err != nil {
		return s.meetingRefusal(c, err)
	}
	s.flash(c, true, s.t(c, "meetings.decided"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/meetings/%d#item-%d", mid, pid))
}

// decideInMeeting stores the minutes of the votes as the project's document
// first, then takes the decision naming them by their SHA-256; if the votes
// changed in between the engine refuses and the file is removed. The page
// and the API decide through it.
func (s *Server) decideInMeeting(ctx context.Context, u *engine.User, mid, pid int64, event string, version int64) (*engine.Project, error) {
	b, err := s.svc.Minutes(ctx, u, mid, pid)
	if err != nil {
		return nil, err
	}
	d := &engine.Document{StoredName: randomToken()}
	if err := s.storeDocument(d, bytes.NewReader(b)); err != nil {
		return nil, err
	}
	p, err := s.svc.Act(ctx, u, pid, engine.Action{Event: event, Version: version, Meeting: mid,
		MinutesStored: d.StoredName, MinutesSHA256: d.SHA256})
	if err != nil {
		s.removeDocumentFile(d.StoredName)
		return nil, err
	}
	return p, nil
}

// handleMeetingMinutes shows the minutes of an item whose votes are all in,
// as the printable document the decision attaches (the same bytes).
func (s *Server) handleMeetingMinutes(c echo.Context) error {
	mid, pid, err := s.readableMeeting(c)
	if err != nil {
		return err
	}
	b, err := s.svc.Minutes(c.Request().Context(), currentUser(c), mid, pid)
	if err != nil {
		return s.meetingRefusal(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	// The minutes are a self-contained document with their print style
	// inline and no script: allow that style, nothing else.
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.HTMLBlob(http.StatusOK, b)
}
