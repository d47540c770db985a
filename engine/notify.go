package engine

import (
	"context"
	"slices"
	"time"
)

// Notice kinds: why a notification reached its reader.
const (
	NoticeWaiting  = "waiting"  // the project now waits on you
	NoticeDecision = "decision" // a decision on a project you registered
	NoticeRemind   = "remind"   // 催办: someone upstream, or the system, chases you
	NoticeEscalate = "escalate" // an overdue project escalated to the park's committee
)

// Outbound channels a deployment may configure (cmd/zonevet serve flags).
const (
	ChannelEmail    = "email"
	ChannelWeCom    = "wecom"
	ChannelDingTalk = "dingtalk"
)

// NotifyPart is what a change tells people, written by the store in the
// change's own transaction after its entries: inbox rows for the notices,
// one outbox row per channel, and for a reminder its once-a-day key. The
// notices refer to the change's last entry (the move, after a score's
// automatic recommend). Nobody is told of their own act.
type NotifyPart struct {
	Notices  []Notice
	Outbox   []string  // channels on which to queue the entry's message
	Reminder *Reminder // a reminder's key: a second one the same day is a conflict
}

// Notice addresses one kind of notification to one user, or to everyone
// holding Role in Park (resolved by the store inside the transaction, so
// it reaches exactly those who hold the role when the decision lands).
type Notice struct {
	Kind   string
	UserID int64
	Role   Role
	Park   string
}

// Reminder is a reminder's uniqueness key: per project, sender and day
// (an escalation's day is the deadline it escalates).
type Reminder struct {
	ProjectID int64
	Sender    string
	Day       string // YYYY-MM-DD
}

// About is what a notification or an outbound message is about: the log
// entry that caused it, its project and why its reader gets it. Texts are
// rendered from these when shown or sent, in the reader's language.
type About struct {
	Seq         int64     `json:"seq"`
	Park        string    `json:"park"`
	ProjectID   int64     `json:"project_id"`
	ProjectName string    `json:"project_name"`
	Event       string    `json:"event"`
	Kind        string    `json:"kind"`
	Actor       string    `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
}

// Notification is one row of a user's inbox.
type Notification struct {
	ID int64 `json:"id"`
	About
	ReadAt *time.Time `json:"read_at,omitempty"`
}

// OutboxItem is one message queued for a channel, and how sending it went.
type OutboxItem struct {
	ID      int64  `json:"id"`
	Channel string `json:"channel"`
	About
	Attempts  int        `json:"attempts"`
	NextAt    time.Time  `json:"next_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Dead      bool       `json:"dead"`
	LastError string     `json:"last_error"`
}

// NotificationStore reads inboxes, the outbox and reminders; they are
// written with a change's NotifyPart. Marking read and recording a send
// attempt are bookkeeping of delivery, not decisions: like a session's
// touch they carry no log entry.
type NotificationStore interface {
	Notifications(ctx context.Context, userID int64, limit int) ([]Notification, error)
	UnreadCount(ctx context.Context, userID int64) (int, error)
	MarkRead(ctx context.Context, userID int64, ids []int64, at time.Time) error
	LastReminder(ctx context.Context, projectID int64, sender string) (string, error)
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	OutboxItems(ctx context.Context, limit int) ([]OutboxItem, error)
	MarkOutbox(ctx context.Context, id int64, sentAt *time.Time, errText string, nextAt time.Time, dead bool) error
}

// Outbound says which messages leave the system: the channels configured
// for this deployment, and the events that go out on them (empty: every
// event that notifies someone).
type Outbound struct {
	Channels []string
	Events   []string
}

func (o Outbound) channelsFor(event string) []string {
	if len(o.Channels) == 0 || (len(o.Events) > 0 && !slices.Contains(o.Events, event)) {
		return nil
	}
	return o.Channels
}

// waitsOn names whom a project in state s waits on: everyone with a role
// in the park, or (promoter) the project's own promoter. ok is false when
// nobody is late for not acting (drafts, final states, a firm in production).
func waitsOn(s State) (role Role, ok bool) {
	switch s {
	case StateScreening, StateExpertReview: // the drawn experts, once drawing lands
		return RoleReviewer, true
	case StateCommitteeReview, StateRectification:
		return RoleCommittee, true
	case StateReturned, StateApproved, StateSigned, StateUnderConstruction:
		return RolePromoter, true
	}
	return "", false
}

// waitingNotice addresses kind to whoever p now waits on.
func waitingNotice(p *Project, kind string) (Notice, bool) {
	role, ok := waitsOn(p.State)
	switch {
	case !ok:
		return Notice{}, false
	case role == RolePromoter:
		return Notice{Kind: kind, UserID: p.CreatedBy}, p.CreatedBy != 0
	}
	return Notice{Kind: kind, Role: role, Park: p.Park}, true
}

// notifying is the engine's side of the one write path: every Change of a
// move gets its notices here, derived from the lifecycle, before the store
// writes it, so no command can forget them and they land in its transaction.
type notifying struct {
	Store
	s *Service
}

func (n notifying) Apply(ctx context.Context, c *Change) error {
	if c.Notify == nil {
		c.Notify = n.s.moveNotices(c)
	}
	return n.Store.Apply(ctx, c)
}

// moveNotices tells whoever the project now waits on, and its promoter of
// the decision, when c moves a project; nil otherwise.
func (s *Service) moveNotices(c *Change) *NotifyPart {
	p := c.Project
	if p == nil {
		return nil
	}
	last := c.Entry
	if len(c.Extra) > 0 {
		last = c.Extra[len(c.Extra)-1]
	}
	if last.FromState == "" || last.FromState == last.ToState {
		return nil
	}
	var part NotifyPart
	w, ok := waitingNotice(p, NoticeWaiting)
	if ok {
		part.Notices = append(part.Notices, w)
	}
	if p.CreatedBy != 0 && w.UserID != p.CreatedBy {
		part.Notices = append(part.Notices, Notice{Kind: NoticeDecision, UserID: p.CreatedBy})
	}
	part.Outbox = s.outbound.channelsFor(last.Event)
	return &part
}

// Inbox lists u's notifications, newest first.
func (s *Service) Inbox(ctx context.Context, u *User, limit int) ([]Notification, error) {
	if u == nil {
		return nil, Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	return s.store.Notifications(ctx, u.ID, limit)
}

// Unread counts u's unread notifications (the header badge); 0 without a user.
func (s *Service) Unread(ctx context.Context, u *User) (int, error) {
	if u == nil {
		return 0, nil
	}
	return s.store.UnreadCount(ctx, u.ID)
}

// MarkRead marks u's notifications ids read (all of u's when ids is empty).
// Only u's own rows change, whatever ids name.
func (s *Service) MarkRead(ctx context.Context, u *User, ids []int64) error {
	if u == nil {
		return Fail(EUNAUTHORIZED, "err.please_sign_in", nil)
	}
	return s.store.MarkRead(ctx, u.ID, ids, s.now().UTC())
}

// Outbox lists the outbox for an administrator, failed sends first.
func (s *Service) Outbox(ctx context.Context, u *User, limit int) ([]OutboxItem, error) {
	if !s.CanSeeOutbox(u) {
		return nil, Fail(EFORBIDDEN, "err.outbox_admins_only", nil)
	}
	return s.store.OutboxItems(ctx, limit)
}

// CanSeeOutbox reports whether u administers some park (who may see failed sends).
func (s *Service) CanSeeOutbox(u *User) bool {
	if u == nil || u.Disabled {
		return false
	}
	parks, err := s.store.Parks(context.Background())
	if err != nil {
		return false
	}
	for _, p := range parks {
		if s.authz.Allowed(u.Username, p.ID, "outbox", "read") {
			return true
		}
	}
	return false
}
