package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerMeetingsAPIRoutes registers committee meetings for machines: the
// meetings, a park's agenda and members, opening a meeting, a member's vote
// and the decision that follows it. Approving or rejecting a project is
// only ever a meeting's decision; these call the engine as web/meetings.go
// does, so the guards (quorum, presence, recusal, one vote each, minutes
// hashed into the decision) are the page's.
func (s *Server) registerMeetingsAPIRoutes(a *echo.Group) {
	a.GET("/meetings", s.handleAPIMeetings)
	a.POST("/meetings", s.handleAPIMeetingOpen)
	a.GET("/meetings/agenda", s.handleAPIMeetingAgenda)
	a.GET("/meetings/:mid", s.handleAPIMeeting)
	a.POST("/meetings/:mid/votes", s.handleAPIMeetingVote)
	a.POST("/meetings/:mid/decisions", s.handleAPIMeetingDecide)
}

func (s *Server) handleAPIMeetings(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	if parks, err := s.svc.MeetingParks(ctx, u); err != nil {
		return err
	} else if len(parks) == 0 {
		return engine.Fail(engine.EFORBIDDEN, "err.meetings_committee_only", nil)
	}
	ms, err := s.svc.Meetings(ctx, u)
	if err != nil {
		return err
	}
	out := []engine.Meeting{}
	for _, m := range ms {
		if tok := currentToken(c); tok == nil || len(tok.Parks) == 0 || contains(tok.Parks, m.Park) {
			out = append(out, m)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// meetingAgenda is GET /meetings/agenda: who sits on the park's committee
// and what awaits its decision — what opening a meeting would take up.
type meetingAgenda struct {
	Park    string            `json:"park"`
	Members []string          `json:"members"`
	Agenda  []*engine.Project `json:"agenda"`
}

func (s *Server) handleAPIMeetingAgenda(c echo.Context) error {
	park, err := s.apiPark(c)
	if err != nil {
		return err
	}
	ctx, u := c.Request().Context(), currentUser(c)
	members, err := s.svc.CommitteeMembers(ctx, u, park)
	if err != nil {
		return err
	}
	agenda, err := s.svc.Agenda(ctx, u, park)
	if err != nil {
		return err
	}
	if agenda == nil {
		agenda = []*engine.Project{}
	}
	return c.JSON(http.StatusOK, meetingAgenda{Park: park, Members: members, Agenda: agenda})
}

func (s *Server) handleAPIMeetingOpen(c echo.Context) error {
	var in engine.MeetingInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Park == "" {
		return engine.FieldFail("park", "err.give_park", nil)
	}
	if _, err := s.tokenParkFilter(c, []string{in.Park}); err != nil {
		return err
	}
	answering(c, http.StatusCreated)
	m, err := s.svc.OpenMeeting(c.Request().Context(), currentUser(c), in)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, m)
}

// meetingAnswer is GET /meetings/{mid}: the meeting and, per agenda item,
// its votes counted.
type meetingAnswer struct {
	Meeting *engine.Meeting `json:"meeting"`
	Items   []meetingTally  `json:"items"`
}

type meetingTally struct {
	engine.AgendaItem
	Tally engine.Tally `json:"tally"`
}

// apiMeeting is the meeting named by the path, of a park the token reaches.
func (s *Server) apiMeeting(c echo.Context) (*engine.MeetingView, error) {
	mid, err := meetingID(c)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.MeetingDetail(c.Request().Context(), currentUser(c), mid)
	if err != nil {
		return nil, err
	}
	if _, err := s.tokenParkFilter(c, []string{v.Meeting.Park}); err != nil {
		return nil, engine.Fail(engine.ENOTFOUND, "err.meeting_not_found", nil)
	}
	return v, nil
}

// apiMeetingItem is apiMeeting for a vote or a decision: the meeting with
// the project's item alone, so that a vote does not read every item's tally.
func (s *Server) apiMeetingItem(c echo.Context, projectID int64) (*engine.Meeting, error) {
	mid, err := meetingID(c)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.MeetingItem(c.Request().Context(), currentUser(c), mid, projectID)
	if err != nil {
		return nil, err
	}
	if _, err := s.tokenParkFilter(c, []string{m.Park}); err != nil {
		return nil, engine.Fail(engine.ENOTFOUND, "err.meeting_not_found", nil)
	}
	return m, nil
}

func (s *Server) handleAPIMeeting(c echo.Context) error {
	v, err := s.apiMeeting(c)
	if err != nil {
		return err
	}
	out := meetingAnswer{Meeting: v.Meeting, Items: []meetingTally{}}
	for _, it := range v.Meeting.Agenda {
		t := v.Tallies[it.ProjectID]
		if t.Votes == nil {
			t.Votes = []engine.Vote{}
		}
		out.Items = append(out.Items, meetingTally{AgendaItem: it, Tally: t})
	}
	return c.JSON(http.StatusOK, out)
}

// voteInput is the body of POST /meetings/{mid}/votes: one member's ballot on one item.
type voteInput struct {
	ProjectID int64  `json:"project_id"`
	Choice    string `json:"choice"`
	Opinion   string `json:"opinion,omitempty"`
}

func (s *Server) handleAPIMeetingVote(c echo.Context) error {
	var in voteInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.apiMeetingItem(c, in.ProjectID)
	if err != nil {
		return err
	}
	answering(c, http.StatusCreated)
	vote, err := s.svc.CastVote(c.Request().Context(), currentUser(c), m.ID, in.ProjectID,
		engine.VoteInput{Choice: in.Choice, Opinion: in.Opinion})
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, vote)
}

// decisionInput is the body of POST /meetings/{mid}/decisions: the item's
// decision (approve or reject, as the vote came out) on the project at the
// version the caller saw.
type decisionInput struct {
	ProjectID int64  `json:"project_id"`
	Event     string `json:"event"`
	Version   int64  `json:"version"`
}

func (s *Server) handleAPIMeetingDecide(c echo.Context) error {
	var in decisionInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.apiMeetingItem(c, in.ProjectID)
	if err != nil {
		return err
	}
	if in.Event == "" {
		return engine.FieldFail("event", "err.give_event", nil)
	}
	if in.Version <= 0 {
		return errVersionRequired
	}
	answering(c, http.StatusOK)
	p, err := s.decideInMeeting(c.Request().Context(), currentUser(c), m.ID, in.ProjectID, in.Event, in.Version)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK, p)
}
