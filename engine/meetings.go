package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"zonevet/rules"
	"zonevet/rules/catalog"
)

// Meeting events: a committee meeting is opened with its members present
// and its agenda, each present member votes on each item, and the item's
// decision (approve or reject, an Action with Meeting set) follows the vote.
const (
	EventMeeting = "meeting" // not an fsm event: a meeting opened, about no one project
	EventVote    = "vote"    // not an fsm event: one member's vote on one agenda item
)

// Vote choices (表决意见).
const (
	VoteAgree    = "agree"    // 同意
	VoteDisagree = "disagree" // 不同意
	VoteAbstain  = "abstain"  // 弃权
)

// VoteChoices lists the choices in the order a ballot shows them.
var VoteChoices = []string{VoteAgree, VoteDisagree, VoteAbstain}

// Meeting is a committee meeting (管委会会议): when, its document number,
// who chaired it, the park's committee members when it opened, those
// present, and its agenda.
type Meeting struct {
	ID        int64        `json:"id"`
	Park      string       `json:"park"`
	HeldOn    string       `json:"held_on"` // YYYY-MM-DD, the zone's date
	Number    string       `json:"number"`  // 文号 of the minutes, e.g. 清高管纪〔2026〕12号
	Chair     string       `json:"chair"`
	Members   []string     `json:"members"`
	Present   []string     `json:"present"`
	Agenda    []AgendaItem `json:"agenda"`
	CreatedAt time.Time    `json:"created_at"`
}

// AgendaItem is one project on a meeting's agenda and, once decided, the
// decision and the SHA-256 of its minutes.
type AgendaItem struct {
	MeetingID     int64  `json:"meeting_id"`
	ProjectID     int64  `json:"project_id"`
	ProjectName   string `json:"project_name"`
	Outcome       string `json:"outcome,omitempty"` // approve | reject, once decided
	MinutesSHA256 string `json:"minutes_sha256,omitempty"`
	DocumentID    int64  `json:"document_id,omitempty"` // the filed minutes, once decided
}

// Vote is one present member's vote on one agenda item.
type Vote struct {
	MeetingID int64     `json:"meeting_id"`
	ProjectID int64     `json:"project_id"`
	Voter     string    `json:"voter"`
	Choice    string    `json:"choice"`
	Opinion   string    `json:"opinion"`
	CreatedAt time.Time `json:"created_at"`
}

// MeetingPart is what a meeting step writes beside its entry: a new meeting
// with its agenda, one vote, or an item's decision (its minutes are the
// Change's Document).
type MeetingPart struct {
	Meeting  *Meeting    // inserted with its agenda; the new id is written back
	Vote     *Vote       // inserted; a second vote of a member on an item is a conflict
	Decision *AgendaItem // the item's outcome and minutes hash set (once: a decided item is a conflict)
}

// MeetingStore reads meetings; every change is a Change with a MeetingPart.
type MeetingStore interface {
	Meeting(ctx context.Context, id int64) (*Meeting, error)
	// MeetingItem is the meeting with only projectID's item on its agenda,
	// an empty agenda when the project is not on it.
	MeetingItem(ctx context.Context, id, projectID int64) (*Meeting, error)
	// Meetings lists the meetings of parks, newest first, with their agendas.
	Meetings(ctx context.Context, parks []string) ([]Meeting, error)
	Votes(ctx context.Context, meetingID int64) ([]Vote, error)
	// ItemVotes lists the votes on one item, in the order they were cast.
	ItemVotes(ctx context.Context, meetingID, projectID int64) ([]Vote, error)
	// AgendaProjects reads the projects on a meeting's agenda as a list
	// row shows them (ProjectFilter.Summary), and the conflicts declared on
	// them, in one snapshot: the meeting's page reads its whole agenda in
	// a fixed number of statements, and decodes no report it does not show.
	AgendaProjects(ctx context.Context, meetingID int64) ([]*Project, []Conflict, error)
}

// MeetingInput is the form that opens a meeting.
type MeetingInput struct {
	Park    string   `json:"park"`
	HeldOn  string   `json:"held_on"`
	Number  string   `json:"number"`
	Present []string `json:"present"`
}

// committeeMembers lists the usernames holding the committee role in park.
func (s *Service) committeeMembers(ctx context.Context, park string) ([]string, error) {
	as, err := s.store.Assignments(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range as {
		if a.Park == park && a.Role == RoleCommittee && !slices.Contains(out, a.Username) {
			out = append(out, a.Username)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CommitteeMembers lists the park's committee members, for the meeting form.
func (s *Service) CommitteeMembers(ctx context.Context, u *User, park string) ([]string, error) {
	if _, err := s.authorize(u, park, "meeting", "open"); err != nil {
		return nil, err
	}
	return s.committeeMembers(ctx, park)
}

// OpenMeeting opens a committee meeting: the members present must make the
// rule set's quorum of the park's committee members, and the agenda is
// every project of the park awaiting the committee's decision.
func (s *Service) OpenMeeting(ctx context.Context, u *User, in MeetingInput) (*Meeting, error) {
	a, err := s.authorize(u, in.Park, "meeting", "open")
	if err != nil {
		return nil, err
	}
	in.Number = strings.TrimSpace(in.Number)
	if _, err := time.ParseInLocation("2006-01-02", in.HeldOn, s.location); err != nil {
		return nil, FieldFail("held_on", "err.meeting_date", nil)
	}
	if in.Number == "" || len([]rune(in.Number)) > 100 {
		return nil, FieldFail("number", "err.meeting_number", nil)
	}
	members, err := s.committeeMembers(ctx, in.Park)
	if err != nil {
		return nil, err
	}
	var present []string
	for _, p := range in.Present {
		if p = strings.TrimSpace(p); p == "" || slices.Contains(present, p) {
			continue
		}
		if !slices.Contains(members, p) {
			return nil, FieldFail("present", "err.meeting_present_not_member", Args{"User": p})
		}
		present = append(present, p)
	}
	if !slices.Contains(present, u.Username) {
		present = append(present, u.Username) // whoever opens the meeting chairs it, so is present
	}
	slices.Sort(present)
	rs, err := s.ActiveRuleSet(ctx, in.Park)
	if err != nil {
		return nil, err
	}
	cr := rs.Committee()
	if !cr.QuorumMet(len(present), len(members)) {
		return nil, FieldFail("present", "err.meeting_no_quorum",
			Args{"Present": len(present), "Members": len(members), "Needed": cr.QuorumNeeded(len(members))})
	}
	waiting, _, err := s.store.Projects(ctx, ProjectFilter{Parks: []string{in.Park}, States: []State{StateCommitteeReview}, Sort: "id", Summary: true})
	if err != nil {
		return nil, err
	}
	if len(waiting) == 0 {
		return nil, Fail(ECONFLICT, "err.meeting_no_agenda", nil)
	}
	m := &Meeting{Park: in.Park, HeldOn: in.HeldOn, Number: in.Number, Chair: u.Username, Members: members,
		Present: present, CreatedAt: s.now().UTC()}
	for _, p := range waiting {
		m.Agenda = append(m.Agenda, AgendaItem{ProjectID: p.ID, ProjectName: p.Name})
	}
	e := AuditEntry{Time: m.CreatedAt, Actor: u.Username, Role: a.role, Park: in.Park, Event: EventMeeting,
		RuleSetVersion: rs.Version(), Reason: in.Number, Payload: payload(m)}
	if err := s.store.Apply(ctx, &Change{Meeting: &MeetingPart{Meeting: m}, Entry: e, Answer: m}); err != nil {
		return nil, err
	}
	return m, nil
}

// Meetings lists the meetings of the parks where u may open one (the
// committee's own page).
func (s *Service) Meetings(ctx context.Context, u *User) ([]Meeting, error) {
	parks, err := s.parksAllowing(ctx, u, "meeting", "open")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range parks {
		ids = append(ids, p.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.Meetings(ctx, ids)
}

// MeetingView is a meeting with its votes, for its page.
type MeetingView struct {
	Meeting *Meeting
	Votes   []Vote
	Tallies map[int64]Tally // by project
	// Projects are the agenda's projects as a list row shows them (no
	// report, of the figures only the total investment), by id.
	Projects map[int64]*Project
}

// MeetingItem returns the meeting with projectID's item alone on its
// agenda, for a member of its park's committee: the vote's and the
// decision's pages read this, not the whole meeting. Anyone else, or a
// project not on the agenda, is "not found".
func (s *Service) MeetingItem(ctx context.Context, u *User, id, projectID int64) (*Meeting, error) {
	m, err := s.store.MeetingItem(ctx, id, projectID)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, m.Park, "meeting", "open"); err != nil {
		return nil, Fail(ENOTFOUND, "err.meeting_not_found", nil)
	}
	if m.item(projectID) == nil {
		return nil, Fail(ENOTFOUND, "err.meeting_item_not_on_agenda", nil)
	}
	return m, nil
}

// MeetingDetail returns a meeting of a park where u sits on the committee,
// with its votes, its agenda's projects and each item's tally. The whole
// agenda is read at once (AgendaProjects) and the votes grouped by item
// once: an agenda of hundreds costs a handful of statements, not a project
// read and a conflicts read per item (BENCHMARKS.md, issue 16).
func (s *Service) MeetingDetail(ctx context.Context, u *User, id int64) (*MeetingView, error) {
	m, err := s.store.Meeting(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, m.Park, "meeting", "open"); err != nil {
		return nil, Fail(ENOTFOUND, "err.meeting_not_found", nil)
	}
	// The page shows the agenda's projects: whoever sees it must be able
	// to read them (every project on it is of the meeting's park).
	if _, err := s.authorize(u, m.Park, "project", "read"); err != nil {
		return nil, Fail(ENOTFOUND, "err.meeting_not_found", nil)
	}
	votes, err := s.store.Votes(ctx, id)
	if err != nil {
		return nil, err
	}
	ps, cs, err := s.store.AgendaProjects(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := s.ballot(ctx, m)
	if err != nil {
		return nil, err
	}
	v := &MeetingView{Meeting: m, Votes: votes, Tallies: make(map[int64]Tally, len(m.Agenda)),
		Projects: make(map[int64]*Project, len(ps))}
	for _, p := range ps {
		v.Projects[p.ID] = p
	}
	conflicts := map[int64][]Conflict{}
	for _, c := range cs {
		conflicts[c.ProjectID] = append(conflicts[c.ProjectID], c)
	}
	itemVotes := map[int64][]Vote{}
	for _, vt := range votes {
		itemVotes[vt.ProjectID] = append(itemVotes[vt.ProjectID], vt)
	}
	for _, it := range m.Agenda {
		p := v.Projects[it.ProjectID]
		if p == nil { // the agenda's rows reference their projects: cannot happen
			return nil, fmt.Errorf("meeting %d: project %d of the agenda not read", id, it.ProjectID)
		}
		v.Tallies[it.ProjectID] = b.tally(p, conflicts[p.ID], itemVotes[p.ID])
	}
	return v, nil
}

// VoteInput is one member's ballot on one item.
type VoteInput struct {
	Choice  string `json:"choice"`
	Opinion string `json:"opinion"`
}

// CastVote records u's vote on a project of the meeting's agenda. Only
// members present may vote, once per item, and not on a project they
// registered or declared a conflict on (they leave the vote); a vote
// against needs its reasons, the dissent the minutes record.
func (s *Service) CastVote(ctx context.Context, u *User, meetingID, projectID int64, in VoteInput) (*Vote, error) {
	in.Opinion = strings.TrimSpace(in.Opinion)
	m, err := s.store.MeetingItem(ctx, meetingID, projectID)
	if err != nil {
		return nil, err
	}
	item := m.item(projectID)
	if item == nil {
		return nil, Fail(ENOTFOUND, "err.meeting_item_not_on_agenda", nil)
	}
	p, err := s.store.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	a, err := s.authorize(u, p.Park, string(p.State), EventVote)
	if err != nil {
		return nil, s.stateOrPermission(u, p, EventVote, err)
	}
	if item.Outcome != "" {
		return nil, Fail(ECONFLICT, "err.meeting_item_decided", nil)
	}
	if !slices.Contains(m.Present, u.Username) {
		return nil, Fail(EFORBIDDEN, "err.meeting_not_present", nil)
	}
	if err := s.segregation(ctx, u, p, EventVote); err != nil {
		return nil, err
	}
	if !slices.Contains(VoteChoices, in.Choice) {
		return nil, FieldFail("choice", "err.vote_choice", nil)
	}
	if in.Choice == VoteDisagree && in.Opinion == "" {
		return nil, FieldFail("opinion", "err.vote_dissent_needs_opinion", nil)
	}
	if err := checkTextLength("opinion", "textfield.opinion", in.Opinion); err != nil {
		return nil, err
	}
	votes, err := s.store.ItemVotes(ctx, meetingID, projectID)
	if err != nil {
		return nil, err
	}
	for _, v := range votes {
		if v.Voter == u.Username {
			return nil, Fail(ECONFLICT, "err.vote_already_cast", nil)
		}
	}
	v := &Vote{MeetingID: meetingID, ProjectID: projectID, Voter: u.Username, Choice: in.Choice, Opinion: in.Opinion,
		CreatedAt: s.now().UTC()}
	e := s.entry(a, p, EventVote, p.State, p.State)
	e.Reason = label("vote", in.Choice, "zh")
	e.Payload = payload(v)
	if err := s.store.Apply(ctx, &Change{Meeting: &MeetingPart{Vote: v}, Entry: e, Answer: v}); err != nil {
		return nil, err
	}
	return v, nil
}

func (m *Meeting) item(projectID int64) *AgendaItem {
	for i := range m.Agenda {
		if m.Agenda[i].ProjectID == projectID {
			return &m.Agenda[i]
		}
	}
	return nil
}

// Tally is the count of one item's votes: who may vote (present and not
// conflicted), who left the vote, the votes, and the outcome once everyone
// entitled has voted.
type Tally struct {
	Voters   []string `json:"voters"`
	Recused  []string `json:"recused"`
	Agree    int      `json:"agree"`
	Disagree int      `json:"disagree"`
	Abstain  int      `json:"abstain"`
	Votes    []Vote   `json:"votes"`
	Complete bool     `json:"complete"`
	Outcome  string   `json:"outcome,omitempty"` // approve | reject, when complete
}

// Dissent lists the votes against, recorded in the minutes.
func (t Tally) Dissent() []Vote {
	var out []Vote
	for _, v := range t.Votes {
		if v.Choice == VoteDisagree {
			out = append(out, v)
		}
	}
	return out
}

// tally counts votes on p under the ballot's majority rule, with the
// conflicts declared on p read from the store.
func (s *Service) tally(ctx context.Context, b *ballot, p *Project, votes []Vote) (Tally, error) {
	cs, err := s.store.Conflicts(ctx, p.ID)
	if err != nil {
		return Tally{}, err
	}
	return b.tally(p, cs, votes), nil
}

// tally counts the votes on p under the ballot's majority rule: the members
// present who registered p or declared a conflict on it (cs, p's) leave the
// vote. Votes on other items are not counted.
func (b *ballot) tally(p *Project, cs []Conflict, votes []Vote) Tally {
	var t Tally
	for _, u := range b.present {
		name := u.Username
		conflicted := u.ID == p.CreatedBy || slices.ContainsFunc(cs, func(c Conflict) bool { return c.UserID == u.ID })
		if conflicted {
			t.Recused = append(t.Recused, name)
		} else {
			t.Voters = append(t.Voters, name)
		}
	}
	for _, v := range votes {
		if v.ProjectID != p.ID {
			continue
		}
		t.Votes = append(t.Votes, v)
		switch v.Choice {
		case VoteAgree:
			t.Agree++
		case VoteDisagree:
			t.Disagree++
		default:
			t.Abstain++
		}
	}
	t.Complete = len(t.Voters) > 0 && len(t.Votes) == len(t.Voters)
	if t.Complete {
		t.Outcome = EventReject
		if b.rules.Carried(t.Agree, len(t.Voters)) {
			t.Outcome = EventApprove
		}
	}
	return t
}

// ballot is what tallying a meeting's items needs of the meeting, read
// once for all its items: the members present and the park's committee
// rules in force.
type ballot struct {
	present []*User
	rules   rules.CommitteeRules
}

func (s *Service) ballot(ctx context.Context, m *Meeting) (*ballot, error) {
	b := &ballot{}
	for _, name := range m.Present {
		u, err := s.store.UserByName(ctx, name)
		if err != nil {
			return nil, err
		}
		b.present = append(b.present, u)
	}
	rs, err := s.ActiveRuleSet(ctx, m.Park)
	if err != nil {
		return nil, err
	}
	b.rules = rs.Committee()
	return b, nil
}

//go:embed minutes/minutes.html
var minutesSource string

var minutesTemplate = template.Must(template.New("minutes").Funcs(template.FuncMap{
	"vote":  func(c string) string { return label("vote", c, "zh") },
	"event": func(ev string) string { return EventLabel(ev, "zh") },
	"join":  func(xs []string) string { return strings.Join(xs, "、") },
}).Parse(minutesSource))

// Minutes renders the minutes (会议纪要) of the decision on a project of
// the meeting, once every member entitled to vote has voted: a printable
// HTML document, the same bytes for the same meeting and votes, so the
// SHA-256 in the decision's log entry can be checked against the file.
func (s *Service) Minutes(ctx context.Context, u *User, meetingID, projectID int64) ([]byte, error) {
	m, err := s.MeetingItem(ctx, u, meetingID, projectID)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Project(ctx, projectID)
	if err != nil {
		return nil, err
	}
	b, _, err := s.minutes(ctx, m, p)
	return b, err
}

func (s *Service) minutes(ctx context.Context, m *Meeting, p *Project) ([]byte, Tally, error) {
	if m.item(p.ID) == nil {
		return nil, Tally{}, Fail(ENOTFOUND, "err.meeting_item_not_on_agenda", nil)
	}
	votes, err := s.store.ItemVotes(ctx, m.ID, p.ID)
	if err != nil {
		return nil, Tally{}, err
	}
	b, err := s.ballot(ctx, m)
	if err != nil {
		return nil, Tally{}, err
	}
	t, err := s.tally(ctx, b, p, votes)
	if err != nil {
		return nil, t, err
	}
	if !t.Complete {
		return nil, t, Fail(ECONFLICT, "err.meeting_votes_incomplete", Args{"Voted": len(t.Votes), "Voters": len(t.Voters)})
	}
	var buf bytes.Buffer
	if err := minutesTemplate.Execute(&buf, map[string]any{"M": m, "P": p, "T": t, "Dissent": t.Dissent()}); err != nil {
		return nil, t, fmt.Errorf("render minutes: %w", err)
	}
	return buf.Bytes(), t, nil
}

// meetingDecision is what an approve or reject decided in a meeting
// records in its entry: the meeting, with this item alone on its agenda
// (the whole agenda is the meeting's own entry), the votes and the
// minutes' hash.
type meetingDecision struct {
	Meeting       *Meeting `json:"meeting"`
	Tally         Tally    `json:"tally"`
	MinutesSHA256 string   `json:"minutes_sha256"`
}

// decidedInMeeting reports whether event from state is a meeting's
// decision (approve, reject from committee review), which nobody makes alone.
func decidedInMeeting(from State, event string) bool {
	return from == StateCommitteeReview && (event == EventApprove || event == EventReject)
}

// decideInMeeting is the effect of approve and reject: from committee
// review they are the decisions of a meeting whose votes on the project are
// all in and carry exactly this outcome; the minutes the caller stored
// (Action.MinutesStored, with their SHA-256) must be those of these votes.
// Reject from screening is a reviewer's or the committee's own judgement.
func decideInMeeting(ctx context.Context, x *actEffect) error {
	if !decidedInMeeting(x.c.Entry.FromState, x.act.Event) {
		return nil
	}
	if x.act.Meeting == 0 {
		return Fail(EFORBIDDEN, "err.decide_in_meeting", nil)
	}
	m, err := x.s.store.MeetingItem(ctx, x.act.Meeting, x.p.ID)
	if err != nil {
		return err
	}
	if m.Park != x.p.Park || m.item(x.p.ID) == nil {
		return Fail(ENOTFOUND, "err.meeting_item_not_on_agenda", nil)
	}
	if m.item(x.p.ID).Outcome != "" {
		return Fail(ECONFLICT, "err.meeting_item_decided", nil)
	}
	if !slices.Contains(m.Present, x.a.user.Username) {
		return Fail(EFORBIDDEN, "err.meeting_not_present", nil)
	}
	b, t, err := x.s.minutes(ctx, m, x.p)
	if err != nil {
		return err
	}
	if t.Outcome != x.act.Event {
		return Fail(ECONFLICT, "err.meeting_outcome_differs", Args{"Outcome": catalog.Text{ZH: EventLabel(t.Outcome, "zh"), EN: EventLabel(t.Outcome, "en")}})
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	if x.act.MinutesStored == "" || x.act.MinutesSHA256 != sha {
		return Fail(ECONFLICT, "err.meeting_minutes_stale", nil)
	}
	doc := &Document{ProjectID: x.p.ID, Kind: DocumentMinutes, FileName: fmt.Sprintf("会议纪要-%s-%d.html", m.HeldOn, x.p.ID),
		StoredName: x.act.MinutesStored, MediaType: "text/html; charset=utf-8", Size: int64(len(b)), SHA256: sha,
		UploadedBy: x.a.user.Username, UploadedAt: x.s.now().UTC()}
	decision := x.c.Entry
	decision.Reason = fmt.Sprintf("%s %s:同意 %d、不同意 %d、弃权 %d(应表决 %d 人,回避 %d 人)", m.Number, m.HeldOn,
		t.Agree, t.Disagree, t.Abstain, len(t.Voters), len(t.Recused))
	decision.Payload = payload(meetingDecision{Meeting: m, Tally: t, MinutesSHA256: sha})
	// The minutes are filed like any document, with their own upload entry
	// (its payload the document as stored, as every upload's), then the
	// decision follows in the same transaction.
	upload := decision
	upload.Event, upload.ToState = "upload", decision.FromState
	upload.Reason = label("doc", DocumentMinutes, "zh") + ":" + doc.FileName
	upload.Payload = ""
	x.c.Document = doc
	x.c.Entry = upload
	x.c.Extra = append([]AuditEntry{decision}, x.c.Extra...)
	x.c.Meeting = &MeetingPart{Decision: &AgendaItem{MeetingID: m.ID, ProjectID: x.p.ID, Outcome: t.Outcome, MinutesSHA256: sha}}
	return nil
}

// MeetingParks lists the parks where u sits on the committee (may open a meeting).
func (s *Service) MeetingParks(ctx context.Context, u *User) ([]Park, error) {
	if u == nil {
		return nil, nil
	}
	return s.parksAllowing(ctx, u, "meeting", "open")
}

// Agenda lists a park's projects awaiting the committee, for the meeting form.
func (s *Service) Agenda(ctx context.Context, u *User, park string) ([]*Project, error) {
	if _, err := s.authorize(u, park, "meeting", "open"); err != nil {
		return nil, err
	}
	ps, _, err := s.store.Projects(ctx, ProjectFilter{Parks: []string{park}, States: []State{StateCommitteeReview}, Sort: "id", Summary: true})
	return ps, err
}
