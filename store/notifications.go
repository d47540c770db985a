package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"zonevet/engine"
)

// writeNotify writes a change's NotifyPart after its entries, for e, the
// change's last entry: the inbox rows (a role's notice reaches everyone
// holding the role in the park now, never the actor, never a disabled
// account), one outbox row per channel and a reminder's key, whose second
// use the same day is the once-a-day refusal.
func (db *DB) writeNotify(ctx context.Context, tx *sql.Tx, n *engine.NotifyPart, e *engine.AuditEntry) error {
	if n.Reminder != nil {
		r := n.Reminder
		_, err := tx.ExecContext(ctx, `INSERT INTO reminders (project_id, sender, day, seq) VALUES (?, ?, ?, ?)`,
			r.ProjectID, r.Sender, r.Day, e.Seq)
		if isUnique(err) {
			return engine.Fail(engine.ECONFLICT, "err.remind_once_a_day", nil)
		}
		if err != nil {
			return wrap("reminder", err)
		}
	}
	for _, st := range noticeWrites(n, e) {
		if _, err := db.execWrite(ctx, tx, st.query, st.args...); err != nil {
			return wrap(st.what, err)
		}
	}
	return nil
}

// write is one statement of hotWrites with its arguments.
type write struct {
	what  string // for errors
	query string
	args  []any
}

// noticeWrites are the inserts of n's notices and outbound messages for
// the entry e.
func noticeWrites(n *engine.NotifyPart, e *engine.AuditEntry) []write {
	at := fmtTime(e.Time)
	out := make([]write, 0, len(n.Notices)+len(n.Outbox))
	for _, x := range n.Notices {
		q, who := sqlNotifyUser, []any{x.UserID}
		if x.UserID == 0 {
			q, who = sqlNotifyRole, []any{x.Park, string(x.Role)}
		}
		args := append([]any{e.Seq, e.Park, e.ProjectID, e.Event, x.Kind, e.Actor, at}, who...)
		out = append(out, write{"notifications", q, append(args, e.Actor)})
	}
	for _, ch := range n.Outbox {
		out = append(out, write{"outbox", sqlOutboxInsert, []any{ch, e.Seq, e.Park, e.ProjectID, e.Event, outboxKind(n), e.Actor, at, at}})
	}
	return out
}

// outboxKind is the kind an outbound message names: the first notice's
// (the waiting one, a reminder's or an escalation's).
func outboxKind(n *engine.NotifyPart) string {
	if len(n.Notices) == 0 {
		return engine.NoticeDecision
	}
	return n.Notices[0].Kind
}

// Notifications lists a user's notifications, newest first: by the log
// entry that caused them, which is their order of insertion (a notice lands
// with its entry), read from the UNIQUE (user_id, seq) index.
func (db *DB) Notifications(ctx context.Context, userID int64, limit int) ([]engine.Notification, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []engine.Notification
	err := db.eachRow(ctx, `SELECT n.id, n.seq, n.park, n.project_id, COALESCE(p.name, ''), n.event, n.kind, n.actor, n.created_at, n.read_at
		FROM notifications n LEFT JOIN projects p ON p.id = n.project_id
		WHERE n.user_id = ? ORDER BY n.seq DESC LIMIT ?`, []any{userID, limit}, func(rows *sql.Rows) error {
		var x engine.Notification
		var created string
		var read sql.NullString
		if err := rows.Scan(&x.ID, &x.Seq, &x.Park, &x.ProjectID, &x.ProjectName, &x.Event, &x.Kind, &x.Actor, &created, &read); err != nil {
			return err
		}
		var err error
		if x.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		if x.ReadAt, err = parseTimeNull(read); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, wrap("notifications", err)
}

// UnreadCount counts a user's unread notifications.
func (db *DB) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.view(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n)
	})
	return n, wrap("unread count", err)
}

// MarkRead marks a user's notifications read: those of ids, or all when ids is empty.
func (db *DB) MarkRead(ctx context.Context, userID int64, ids []int64, at time.Time) error {
	q, args := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, []any{fmtTime(at), userID}
	if len(ids) > 0 {
		b, _ := json.Marshal(ids)
		q, args = q+` AND `+db.inJSON("id", false), append(args, db.idsArg(string(b)))
	}
	return wrap("mark read", db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}))
}

// LastReminder is the day (YYYY-MM-DD) of sender's latest reminder of a project, "" if none.
func (db *DB) LastReminder(ctx context.Context, projectID int64, sender string) (string, error) {
	var day string
	err := db.view(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT COALESCE(max(day), '') FROM reminders WHERE project_id = ? AND sender = ?`, projectID, sender).Scan(&day)
	})
	return day, wrap("last reminder", err)
}

const outboxColumns = `o.id, o.channel, o.seq, o.park, o.project_id, COALESCE(p.name, ''), o.event, o.kind, o.actor,
	o.created_at, o.attempts, o.next_at, o.sent_at, o.dead, o.last_error FROM outbox o LEFT JOIN projects p ON p.id = o.project_id`

// DueOutbox lists the unsent messages due by now, oldest first.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]engine.OutboxItem, error) {
	return db.outbox(ctx, `SELECT `+outboxColumns+` WHERE o.sent_at IS NULL AND o.dead = 0 AND o.next_at <= ? ORDER BY o.id LIMIT ?`, fmtTime(now), limit)
}

// OutboxItems lists the outbox for administrators: given-up sends first,
// then those still failing, then the rest, newest first in each.
func (db *DB) OutboxItems(ctx context.Context, limit int) ([]engine.OutboxItem, error) {
	return db.outbox(ctx, `SELECT `+outboxColumns+` ORDER BY o.dead DESC, (o.sent_at IS NULL AND o.last_error <> '') DESC, o.id DESC LIMIT ?`, limit)
}

func (db *DB) outbox(ctx context.Context, q string, args ...any) ([]engine.OutboxItem, error) {
	var out []engine.OutboxItem
	err := db.eachRow(ctx, q, args, func(rows *sql.Rows) error {
		var x engine.OutboxItem
		var created, next string
		var sent sql.NullString
		if err := rows.Scan(&x.ID, &x.Channel, &x.Seq, &x.Park, &x.ProjectID, &x.ProjectName, &x.Event, &x.Kind, &x.Actor,
			&created, &x.Attempts, &next, &sent, &x.Dead, &x.LastError); err != nil {
			return err
		}
		var err error
		if x.CreatedAt, err = parseTime(created); err != nil {
			return err
		}
		if x.NextAt, err = parseTime(next); err != nil {
			return err
		}
		if x.SentAt, err = parseTimeNull(sent); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, wrap("outbox", err)
}

// MarkOutbox records one send attempt: sent at sentAt, or failed with
// errText, next tried at nextAt unless dead (given up).
func (db *DB) MarkOutbox(ctx context.Context, id int64, sentAt *time.Time, errText string, nextAt time.Time, dead bool) error {
	return wrap("mark outbox", db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, sent_at = ?, last_error = ?, next_at = ?, dead = ?
			WHERE id = ? AND sent_at IS NULL`, fmtTimePtr(sentAt), errText, fmtTime(nextAt), dead, id)
		return err
	}))
}

func parseTimeNull(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
