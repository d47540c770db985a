package engine

import (
	"context"
	"errors"
	"time"
)

// EventAuditPull is an entry about the log itself: someone pulled a range of
// it through the API (who, from which seq, how many, with which filters).
const EventAuditPull = "audit_pull"

// MaxPullPage is the most entries one page of a pull holds as JSON (a page is
// held in memory); a JSON Lines pull streams and takes up to MaxPullStream.
const (
	MaxPullPage   = 1000
	MaxPullStream = 1_000_000
)

// PullQuery is one page of a pull: the entries after seq After matching the
// filters, at most Limit of them, in seq order.
type PullQuery struct {
	AuditQuery
	After int64
	Limit int
}

// LogHead is the last entry of the log: where a puller that holds the whole
// log must find itself again (a shorter log, or another hash at its own
// last seq, is a log cut or rewritten under it).
type LogHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// PullPage is what one pull returns, apart from the entries, which
// Pull streams to its callback. The checkpoint part is a field of its own
// so that proofs (inclusion, consistency) can join it without reshaping
// the page.
type PullPage struct {
	// Complete says the query selects the whole log (every park of the
	// deployment and the zone-wide entries, no filter): its entries link one
	// to the next and to Head. A filtered pull is partial: each entry's own
	// hash can be checked, not what lies between them.
	Complete bool `json:"complete"`
	// Head is the log's last entry when Complete, else nil (a partial
	// reader learns nothing of other parks' entries from it).
	Head *LogHead `json:"head,omitempty"`
	// Checkpoint is the latest signed checkpoint, nil when none is signed yet.
	Checkpoint *Checkpoint `json:"checkpoint"`
	// Checkpoints are the checkpoints at the seqs of the page's range
	// (After, last entry], which a puller files beside those entries just as
	// an export does.
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// pullRecord is the payload of an audit_pull entry: which range, through
// which filters (the parks after the scope: what the reader could see).
type pullRecord struct {
	After    int64      `json:"after"`
	Limit    int        `json:"limit"`
	Complete bool       `json:"complete"`
	Parks    []string   `json:"parks"`
	System   bool       `json:"zone_wide"`
	Project  int64      `json:"project_id,omitempty"`
	Actor    string     `json:"actor,omitempty"`
	Role     Role       `json:"role,omitempty"`
	Events   []string   `json:"events,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	To       *time.Time `json:"to,omitempty"`
}

// errPageFull stops the store's stream once the page has its entries.
var errPageFull = errors.New("page full")

// Pull streams one page of the log to entry, in seq order, within u's parks,
// after logging the pull itself (who, after which seq, how many, which
// filters: a pull is an export, and reads its own record when it reaches the
// head). When the page reaches the head of a complete log and this process
// can sign, the head is signed first, so the puller ends on a checkpoint;
// pages before the last carry the latest checkpoint there is and are not
// signed one by one (a million-entry pull would otherwise leave a thousand
// checkpoints behind).
//
// start is called once, before any entry, with the page (Checkpoints still
// empty) and the checkpoints after q.After from the entries' own read
// snapshot; the caller files those at the seqs it receives (an export's
// writer does exactly that). Entries are reused: entry must not keep one.
func (l *AuditLog) Pull(ctx context.Context, u *User, q PullQuery, start func(page *PullPage, after []Checkpoint) error, entry func(*AuditEntry) error) error {
	cps, err := l.store()
	if err != nil {
		return err
	}
	if q.Limit < 1 || q.Limit > MaxPullStream {
		return FieldFail("limit", "err.limit_must_1_1000000", nil)
	}
	if q.After < 0 {
		return FieldFail("after", "err.after_must_non_negative", nil)
	}
	filtered := q.ProjectID != 0 || q.Actor != "" || q.Role != "" || len(q.Events) > 0 || !q.From.IsZero() || !q.To.IsZero()
	a, err := l.scope(ctx, u, "export", &q.AuditQuery)
	if err != nil {
		return err
	}
	all, err := l.svc.store.Parks(ctx)
	if err != nil {
		return err
	}
	complete := !filtered && q.System && len(q.Parks) == len(all)
	park := ""
	if len(q.Parks) == 1 && !q.System {
		park = q.Parks[0]
	}
	record := pullRecord{After: q.After, Limit: q.Limit, Complete: complete, Parks: q.Parks, System: q.System,
		Project: q.ProjectID, Actor: q.Actor, Role: q.Role, Events: q.Events}
	if !q.From.IsZero() {
		record.From = &q.From
	}
	if !q.To.IsZero() {
		record.To = &q.To
	}
	if err := l.logAction(ctx, a, park, q.ProjectID, EventAuditPull, "", payload(record)); err != nil {
		return err
	}
	page := &PullPage{Complete: complete, Checkpoints: []Checkpoint{}}
	if complete {
		// Read before the entries' snapshot: entries below a head never
		// change, so the head is at or before the last entry the stream can
		// give, and a puller holding more than it has had its log cut.
		seq, hash, err := cps.AuditHead(ctx)
		if err != nil {
			return err
		}
		page.Head = &LogHead{Seq: seq, Hash: hash}
		if q.After+int64(q.Limit) >= seq {
			if err := l.checkpointBeforeExport(ctx); err != nil {
				return err
			}
		}
	}
	sq := q.AuditQuery
	sq.AfterSeq, sq.Limit, sq.Desc, sq.Offset = q.After, 0, false, 0
	n := 0
	err = cps.ExportAudit(ctx, sq, func(list []Checkpoint) error {
		if len(list) > 0 {
			c := list[len(list)-1]
			page.Checkpoint = &c
		}
		var after []Checkpoint
		for _, c := range list {
			if c.Seq > q.After {
				after = append(after, c)
			}
		}
		return start(page, after)
	}, func(e *AuditEntry) error {
		n++
		if err := entry(e); err != nil {
			return err
		}
		if n == q.Limit {
			return errPageFull
		}
		return nil
	})
	if errors.Is(err, errPageFull) {
		return nil
	}
	return err
}
