package engine_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"zonevet/engine"
)

// decide takes p, in committee review, through a meeting of its park's
// committee: every member present votes for event's outcome, and the
// decision is announced with the minutes.
func (w *world) decide(p *engine.Project, event string) *engine.Project {
	w.t.Helper()
	chair := w.users["committee-"+p.Park]
	m, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: p.Park, HeldOn: "2026-12-01", Number: "管纪〔2026〕1号"})
	if err != nil {
		w.t.Fatal(err)
	}
	choice := engine.VoteAgree
	if event == engine.EventReject {
		choice = engine.VoteDisagree
	}
	for _, name := range m.Present {
		if _, err := w.svc.CastVote(w.ctx, w.users[name], m.ID, p.ID, engine.VoteInput{Choice: choice, Opinion: "意见"}); err != nil {
			w.t.Fatalf("vote by %s: %v", name, err)
		}
	}
	return w.announce(chair, m, p, event)
}

// announce announces the meeting's decision on p with its minutes.
func (w *world) announce(u *engine.User, m *engine.Meeting, p *engine.Project, event string) *engine.Project {
	w.t.Helper()
	got, err := w.tryAnnounce(u, m, p, event)
	if err != nil {
		w.t.Fatalf("%s in meeting %d: %v", event, m.ID, err)
	}
	return got
}

func (w *world) tryAnnounce(u *engine.User, m *engine.Meeting, p *engine.Project, event string) (*engine.Project, error) {
	b, err := w.svc.Minutes(w.ctx, u, m.ID, p.ID)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return w.svc.Act(w.ctx, u, p.ID, engine.Action{Event: event, Version: p.Version, Meeting: m.ID,
		MinutesStored: "minutes-test", MinutesSHA256: hex.EncodeToString(sum[:])})
}

// meetingDecision is what a meeting's decision entry records.
type meetingDecision struct {
	Meeting       engine.Meeting `json:"meeting"`
	Tally         engine.Tally   `json:"tally"`
	MinutesSHA256 string         `json:"minutes_sha256"`
}

// approval reads the one approve entry of p.
func (w *world) approval(p *engine.Project) meetingDecision {
	w.t.Helper()
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID, Events: []string{engine.EventApprove}})
	if err != nil || len(es) != 1 {
		w.t.Fatalf("approve entries: %v %v", es, err)
	}
	var rec meetingDecision
	if err := json.Unmarshal([]byte(es[0].Payload), &rec); err != nil {
		w.t.Fatal(err)
	}
	return rec
}

// committeeOf3 gives qingyuan three committee members (committee-qingyuan,
// committee2-qingyuan, committee3-qingyuan) and returns a project there in
// committee review.
func committeeOf3(t *testing.T) (*world, *engine.Project) {
	w := mustWorld(t)
	for _, n := range []string{"committee2-qingyuan", "committee3-qingyuan"} {
		w.user(n, engine.RoleAssignment{Role: engine.RoleCommittee, Park: "qingyuan"})
	}
	return w, w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
}

// TestMeetingWithoutQuorum: the default rule (rules.DefaultCommitteeRules,
// 应到会成员三分之二以上出席) needs 2 of 3 members present; 1 is refused
// naming the field, 2 is a quorum.
func TestMeetingWithoutQuorum(t *testing.T) {
	w, _ := committeeOf3(t)
	chair := w.users["committee-qingyuan"]
	_, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01", Number: "清高管纪〔2026〕12号"})
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.EINVALID || e.Field != "present" {
		t.Fatalf("1 of 3 present: err = %v, want invalid naming present", err)
	}
	if _, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01", Number: "清高管纪〔2026〕12号",
		Present: []string{"committee2-qingyuan"}}); err != nil {
		t.Fatalf("2 of 3 present: %v", err)
	}
}

// TestMeetingDecidesByMajorityWithDissent: 3 present, 2 in favour, 1
// against: 2 × 2 > 3 × 1 carries it (过半数). Approve without the meeting,
// or reject against the vote, is refused; the approval's entry holds the
// meeting, the votes and the minutes' SHA-256, which is the attached
// minutes document's, and the minutes record the dissent.
func TestMeetingDecidesByMajorityWithDissent(t *testing.T) {
	w, p := committeeOf3(t)
	chair := w.users["committee-qingyuan"]
	if _, err := w.svc.Act(w.ctx, chair, p.ID, engine.Action{Event: engine.EventApprove, Version: p.Version}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("approve without a meeting: err = %v, want forbidden", err)
	}
	m, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01", Number: "清高管纪〔2026〕12号",
		Present: []string{"committee2-qingyuan", "committee3-qingyuan"}})
	if err != nil {
		t.Fatal(err)
	}
	ballots := map[string]engine.VoteInput{
		"committee-qingyuan":  {Choice: engine.VoteAgree, Opinion: "符合主导产业"},
		"committee2-qingyuan": {Choice: engine.VoteAgree},
		"committee3-qingyuan": {Choice: engine.VoteDisagree, Opinion: "亩均税收承诺偏乐观"},
	}
	if _, err := w.svc.CastVote(w.ctx, w.users["committee3-qingyuan"], m.ID, p.ID, engine.VoteInput{Choice: engine.VoteDisagree}); engine.ErrorCode(err) != engine.EINVALID {
		t.Fatalf("dissent without an opinion: err = %v, want invalid", err)
	}
	for _, who := range []string{"committee-qingyuan", "committee2-qingyuan"} {
		if _, err := w.svc.CastVote(w.ctx, w.users[who], m.ID, p.ID, ballots[who]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.tryAnnounce(chair, m, p, engine.EventApprove); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("decision before every vote: err = %v, want conflict", err)
	}
	if _, err := w.svc.CastVote(w.ctx, w.users["committee3-qingyuan"], m.ID, p.ID, ballots["committee3-qingyuan"]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CastVote(w.ctx, w.users["committee3-qingyuan"], m.ID, p.ID, ballots["committee3-qingyuan"]); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("second vote: err = %v, want conflict", err)
	}
	if _, err := w.tryAnnounce(chair, m, p, engine.EventReject); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("reject against the vote: err = %v, want conflict", err)
	}
	minutes, err := w.svc.Minutes(w.ctx, chair, m.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(minutes), "亩均税收承诺偏乐观") || !strings.Contains(string(minutes), "清高管纪〔2026〕12号") {
		t.Fatalf("minutes miss the dissent or the number:\n%s", minutes)
	}
	got := w.announce(chair, m, p, engine.EventApprove)
	if got.State != engine.StateApproved {
		t.Fatalf("state = %s, want approved", got.State)
	}
	sum := sha256.Sum256(minutes)
	want := hex.EncodeToString(sum[:])
	rec := w.approval(p)
	if rec.Meeting.ID != m.ID || len(rec.Tally.Votes) != 3 || rec.Tally.Agree != 2 || rec.Tally.Disagree != 1 || rec.MinutesSHA256 != want {
		t.Fatalf("approve entry = %+v, want meeting %d, 3 votes (2 for, 1 against), minutes %s", rec, m.ID, want)
	}
	docs, err := w.db.Documents(w.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Kind != engine.DocumentMinutes || docs[0].SHA256 != want {
		t.Fatalf("documents = %+v, want the minutes with SHA-256 %s", docs, want)
	}
}

// TestMeetingMemberWhoRegisteredProjectLeavesVote: a committee member who
// also registered the project, or declared a conflict on it as a reviewer,
// is present but may not vote on it, and is not counted among its voters.
// The meeting's view, which reads its whole agenda at once, gives every
// item the tally its own facts give (meetingTallyFromFacts): an item with
// both recusals, one with a conflict alone, one fully voted, one part voted
// and one not voted on.
func TestMeetingMemberWhoRegisteredProjectLeavesVote(t *testing.T) {
	w := mustWorld(t)
	both := w.user("both-qingyuan", engine.RoleAssignment{Role: engine.RoleCommittee, Park: "qingyuan"},
		engine.RoleAssignment{Role: engine.RolePromoter, Park: "qingyuan"})
	conflicted := w.user("conflicted-qingyuan", engine.RoleAssignment{Role: engine.RoleCommittee, Park: "qingyuan"},
		engine.RoleAssignment{Role: engine.RoleReviewer, Park: "qingyuan"})
	chair := w.users["committee-qingyuan"]
	p, err := w.svc.CreateProject(w.ctx, both, input("qingyuan", goodFigures()))
	if err != nil {
		t.Fatal(err)
	}
	p = w.act("both-qingyuan", p, engine.EventSubmit, "")
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	if err := w.svc.DeclareConflict(w.ctx, conflicted, p.ID, "投资方为本人亲属控股企业"); err != nil {
		t.Fatal(err)
	}
	p = w.scoreAll(p, 0.8, "reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan")
	q := w.drive("qingyuan", goodFigures(), engine.StateExpertReview)
	if err := w.svc.DeclareConflict(w.ctx, conflicted, q.ID, "曾任投资方顾问"); err != nil {
		t.Fatal(err)
	}
	q = w.scoreAll(q, 0.8, "reviewer-qingyuan", "reviewer2-qingyuan", "reviewer3-qingyuan")
	voted := w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
	untouched := w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
	// A conflict off the agenda: the project is still in review when the meeting opens.
	outside := w.drive("qingyuan", goodFigures(), engine.StateExpertReview)
	if err := w.svc.DeclareConflict(w.ctx, conflicted, outside.ID, "亲属"); err != nil {
		t.Fatal(err)
	}
	m, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01",
		Number: "清高管纪〔2026〕13号", Present: []string{"both-qingyuan", "conflicted-qingyuan"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Agenda) != 4 {
		t.Fatalf("agenda = %+v, want 4 items", m.Agenda)
	}
	for _, u := range []*engine.User{both, conflicted} {
		if _, err := w.svc.CastVote(w.ctx, u, m.ID, p.ID, engine.VoteInput{Choice: engine.VoteAgree}); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Fatalf("vote by %s: err = %v, want forbidden", u.Username, err)
		}
	}
	for _, b := range []struct {
		who  *engine.User
		on   *engine.Project
		vote engine.VoteInput
	}{
		{chair, p, engine.VoteInput{Choice: engine.VoteAgree}},
		{both, voted, engine.VoteInput{Choice: engine.VoteDisagree, Opinion: "用地指标不足"}},
		{chair, q, engine.VoteInput{Choice: engine.VoteAgree}},
		{chair, voted, engine.VoteInput{Choice: engine.VoteAgree}},
		{conflicted, voted, engine.VoteInput{Choice: engine.VoteAbstain}},
	} {
		if _, err := w.svc.CastVote(w.ctx, b.who, m.ID, b.on.ID, b.vote); err != nil {
			t.Fatalf("vote by %s on %d: %v", b.who.Username, b.on.ID, err)
		}
	}
	v, err := w.svc.MeetingDetail(w.ctx, chair, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	tl := v.Tallies[p.ID]
	if len(tl.Voters) != 1 || len(tl.Recused) != 2 || tl.Outcome != engine.EventApprove {
		t.Fatalf("tally = %+v, want 1 voter, 2 recused, approve", tl)
	}
	for _, c := range []struct {
		name           string
		p              *engine.Project
		voters, votes  int
		recused        []string
		complete       bool
		agree, against int
	}{
		{"RegisteredAndConflicted", p, 1, 1, []string{"both-qingyuan", "conflicted-qingyuan"}, true, 1, 0},
		{"Conflicted", q, 2, 1, []string{"conflicted-qingyuan"}, false, 1, 0},
		{"AllVoted", voted, 3, 3, nil, true, 1, 1},
		{"NoVotes", untouched, 3, 0, nil, false, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := v.Tallies[c.p.ID]
			if len(got.Voters) != c.voters || len(got.Votes) != c.votes || !slices.Equal(got.Recused, c.recused) ||
				got.Complete != c.complete || got.Agree != c.agree || got.Disagree != c.against {
				t.Fatalf("tally = %+v, want %d voters, %d votes, recused %v, complete %v, %d for, %d against",
					got, c.voters, c.votes, c.recused, c.complete, c.agree, c.against)
			}
			if want := w.meetingTallyFromFacts(m, c.p.ID); !reflect.DeepEqual(got, want) {
				t.Fatalf("tally = %+v\nfrom the item's own facts %+v", got, want)
			}
			full, err := w.db.Project(w.ctx, c.p.ID)
			if err != nil {
				t.Fatal(err)
			}
			lp := v.Projects[c.p.ID]
			if lp == nil || lp.ID != full.ID || lp.Park != full.Park || lp.Name != full.Name || lp.InvestorName != full.InvestorName ||
				lp.State != full.State || lp.Version != full.Version || lp.CreatedBy != full.CreatedBy || lp.Report != nil {
				t.Fatalf("the view's project = %+v, want %+v as a list row shows it (no report)", lp, full)
			}
		})
	}
	if len(v.Tallies) != 4 || len(v.Projects) != 4 {
		t.Fatalf("%d tallies, %d projects; want the agenda's 4", len(v.Tallies), len(v.Projects))
	}
}

// meetingTallyFromFacts is an item's tally worked out from first
// principles, one item at a time: the members present, the project's
// creator and conflicts, the item's own votes and the park's committee rules.
func (w *world) meetingTallyFromFacts(m *engine.Meeting, projectID int64) engine.Tally {
	w.t.Helper()
	p, err := w.db.Project(w.ctx, projectID)
	if err != nil {
		w.t.Fatal(err)
	}
	cs, err := w.db.Conflicts(w.ctx, projectID)
	if err != nil {
		w.t.Fatal(err)
	}
	votes, err := w.db.ItemVotes(w.ctx, m.ID, projectID)
	if err != nil {
		w.t.Fatal(err)
	}
	rs, err := w.svc.ActiveRuleSet(w.ctx, m.Park)
	if err != nil {
		w.t.Fatal(err)
	}
	var t engine.Tally
	for _, name := range m.Present {
		u, err := w.db.UserByName(w.ctx, name)
		if err != nil {
			w.t.Fatal(err)
		}
		recused := u.ID == p.CreatedBy
		for _, c := range cs {
			recused = recused || c.UserID == u.ID
		}
		if recused {
			t.Recused = append(t.Recused, name)
		} else {
			t.Voters = append(t.Voters, name)
		}
	}
	t.Votes = votes
	for _, v := range votes {
		switch v.Choice {
		case engine.VoteAgree:
			t.Agree++
		case engine.VoteDisagree:
			t.Disagree++
		case engine.VoteAbstain:
			t.Abstain++
		}
	}
	t.Complete = len(t.Voters) > 0 && len(votes) == len(t.Voters)
	if t.Complete {
		t.Outcome = engine.EventReject
		if rs.Committee().Carried(t.Agree, len(t.Voters)) {
			t.Outcome = engine.EventApprove
		}
	}
	return t
}

// TestMeetingVoteByNonMember: a reviewer, a committee member of another
// park, and a committee member not present may not vote.
func TestMeetingVoteByNonMember(t *testing.T) {
	w, p := committeeOf3(t)
	m, err := w.svc.OpenMeeting(w.ctx, w.users["committee-qingyuan"], engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01",
		Number: "清高管纪〔2026〕14号", Present: []string{"committee2-qingyuan"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"reviewer-qingyuan", "committee-yingde", "committee3-qingyuan"} {
		if _, err := w.svc.CastVote(w.ctx, w.users[who], m.ID, p.ID, engine.VoteInput{Choice: engine.VoteAgree}); engine.ErrorCode(err) != engine.EFORBIDDEN {
			t.Errorf("vote by %s: err = %v, want forbidden", who, err)
		}
	}
}

// TestRecallSubmit: the promoter takes back a submission nobody has
// handled; the project is a draft again and the log keeps both entries.
func TestRecallSubmit(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	p = w.act("promoter-qingyuan", p, engine.EventRecall, "材料漏传")
	if p.State != engine.StateDraft {
		t.Fatalf("state = %s, want draft", p.State)
	}
	es, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Event)
	}
	if strings.Join(got, " ") != "create submit recall" {
		t.Fatalf("log = %v, want create submit recall", got)
	}
}

// TestRecallAfterNextActorActed: once the next actor has acted (a reviewer
// declared a conflict on the submission; an expert scored after the pass),
// the move cannot be taken back.
func TestRecallAfterNextActorActed(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateScreening)
	if err := w.svc.DeclareConflict(w.ctx, w.users["reviewer2-qingyuan"], p.ID, "曾任投资方顾问"); err != nil {
		t.Fatal(err)
	}
	p, _ = w.db.Project(w.ctx, p.ID)
	if _, err := w.svc.Act(w.ctx, w.users["promoter-qingyuan"], p.ID, engine.Action{Event: engine.EventRecall, Version: p.Version}); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("recall of the submit after a reviewer acted: err = %v, want conflict", err)
	}
	p = w.act("reviewer-qingyuan", p, engine.EventPass, "")
	p = w.scoreAll(p, 0.8, "reviewer3-qingyuan")
	if _, err := w.svc.Act(w.ctx, w.users["reviewer-qingyuan"], p.ID, engine.Action{Event: engine.EventRecall, Version: p.Version}); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("recall of the pass after a score: err = %v, want conflict", err)
	}
}

// TestRecallBySomeoneElse: only whoever made the move may take it back.
func TestRecallBySomeoneElse(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateExpertReview) // reviewer-qingyuan passed it
	if _, err := w.svc.Act(w.ctx, w.users["reviewer2-qingyuan"], p.ID, engine.Action{Event: engine.EventRecall, Version: p.Version}); engine.ErrorCode(err) != engine.EFORBIDDEN {
		t.Fatalf("recall by another reviewer: err = %v, want forbidden", err)
	}
	p = w.act("reviewer-qingyuan", p, engine.EventRecall, "")
	if p.State != engine.StateScreening {
		t.Fatalf("state = %s, want screening", p.State)
	}
}

// TestMeetingItemsAreVotedAndDecidedAlone: on an agenda of two, the votes
// on one item never count for the other, a vote or minutes for a project not
// on the agenda are "not found", and a decision's entry records the meeting
// with its own item alone on the agenda (the whole agenda is the meeting's
// entry), so the entry does not grow with the agenda.
func TestMeetingItemsAreVotedAndDecidedAlone(t *testing.T) {
	w := mustWorld(t)
	p := w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
	q := w.drive("qingyuan", goodFigures(), engine.StateCommitteeReview)
	outside := w.drive("qingyuan", goodFigures(), engine.StateExpertReview)
	chair := w.users["committee-qingyuan"]
	m, err := w.svc.OpenMeeting(w.ctx, chair, engine.MeetingInput{Park: "qingyuan", HeldOn: "2026-12-01", Number: "清高管纪〔2026〕13号"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Agenda) != 2 {
		t.Fatalf("agenda = %+v, want both projects", m.Agenda)
	}
	if _, err := w.svc.CastVote(w.ctx, chair, m.ID, outside.ID, engine.VoteInput{Choice: engine.VoteAgree}); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("vote on a project not on the agenda: err = %v, want not found", err)
	}
	if _, err := w.svc.Minutes(w.ctx, chair, m.ID, outside.ID); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("minutes of a project not on the agenda: err = %v, want not found", err)
	}
	if _, err := w.svc.CastVote(w.ctx, chair, m.ID, q.ID, engine.VoteInput{Choice: engine.VoteAgree}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.tryAnnounce(chair, m, p, engine.EventApprove); engine.ErrorCode(err) != engine.ECONFLICT {
		t.Fatalf("decision on an item nobody voted on: err = %v, want conflict (votes incomplete)", err)
	}
	if _, err := w.svc.CastVote(w.ctx, chair, m.ID, p.ID, engine.VoteInput{Choice: engine.VoteAgree}); err != nil {
		t.Fatal(err)
	}
	w.announce(chair, m, p, engine.EventApprove)
	if rec := w.approval(p); len(rec.Meeting.Agenda) != 1 || rec.Meeting.Agenda[0].ProjectID != p.ID || len(rec.Tally.Votes) != 1 || rec.Tally.Votes[0].ProjectID != p.ID {
		t.Fatalf("decision records agenda %+v and votes %+v, want project %d's item and vote alone", rec.Meeting.Agenda, rec.Tally.Votes, p.ID)
	}
	full, err := w.db.Meeting(w.ctx, m.ID)
	if err != nil || len(full.Agenda) != 2 || full.Agenda[0].Outcome+full.Agenda[1].Outcome != engine.EventApprove {
		t.Fatalf("the meeting afterwards: %+v %v, want two items, one approved", full, err)
	}
}
