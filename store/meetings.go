package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"zonevet/engine"
)

var _ engine.MeetingStore = (*DB)(nil)

// writeMeeting writes a Change's meeting part inside tx: a new meeting with
// its agenda, a vote, or an item's decision with its minutes document; it
// returns the write-back of the new ids.
func writeMeeting(ctx context.Context, tx *sql.Tx, c *engine.MeetingPart) (func(), error) {
	var meetingID int64
	if m := c.Meeting; m != nil {
		agenda := m.Agenda
		m.Agenda = nil // the agenda lives in its own rows, where decisions are set
		b, err := json.Marshal(m)
		m.Agenda = agenda
		if err != nil {
			return nil, err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO meetings (park, body) VALUES (?, ?) RETURNING id`, m.Park, string(b)).Scan(&meetingID); err != nil {
			return nil, err
		}
		for _, it := range agenda {
			if _, err := tx.ExecContext(ctx, `INSERT INTO meeting_agenda (meeting_id, project_id, project_name) VALUES (?, ?, ?)`,
				meetingID, it.ProjectID, it.ProjectName); err != nil {
				return nil, err
			}
		}
	}
	if v := c.Vote; v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meeting_votes (meeting_id, project_id, voter, body) VALUES (?, ?, ?, ?)`,
			v.MeetingID, v.ProjectID, v.Voter, string(b)); err != nil {
			if isUnique(err) {
				return nil, engine.Fail(engine.ECONFLICT, "err.vote_already_cast", nil)
			}
			return nil, err
		}
	}
	if d := c.Decision; d != nil {
		res, err := tx.ExecContext(ctx, `UPDATE meeting_agenda SET outcome = ?, minutes_sha256 = ?
			WHERE meeting_id = ? AND project_id = ? AND outcome = ''`, d.Outcome, d.MinutesSHA256, d.MeetingID, d.ProjectID)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, engine.Fail(engine.ECONFLICT, "err.meeting_item_decided", nil)
		}
	}
	return func() {
		if c.Meeting != nil {
			c.Meeting.ID = meetingID
			for i := range c.Meeting.Agenda {
				c.Meeting.Agenda[i].MeetingID = meetingID
			}
		}
	}, nil
}

// Meeting returns a meeting with its agenda.
func (db *DB) Meeting(ctx context.Context, id int64) (*engine.Meeting, error) {
	ms, err := db.meetings(ctx, 0, `SELECT id, body FROM meetings WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, engine.Fail(engine.ENOTFOUND, "err.meeting_not_found", nil)
	}
	return &ms[0], nil
}

// MeetingItem returns a meeting with one item alone on its agenda, or none
// when the project is not on it: a vote or a decision reads what it is
// about, not an agenda of thousands.
func (db *DB) MeetingItem(ctx context.Context, id, projectID int64) (*engine.Meeting, error) {
	ms, err := db.meetings(ctx, projectID, `SELECT id, body FROM meetings WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, engine.Fail(engine.ENOTFOUND, "err.meeting_not_found", nil)
	}
	return &ms[0], nil
}

// Meetings lists the meetings of parks, newest first, with their agendas.
func (db *DB) Meetings(ctx context.Context, parks []string) ([]engine.Meeting, error) {
	if len(parks) == 0 {
		return nil, nil
	}
	// A placeholder per park, as every park filter: json_each is SQLite's alone.
	in, args := inList(parks)
	return db.meetings(ctx, 0, `SELECT id, body FROM meetings WHERE park IN (`+in+`) ORDER BY id DESC`, args...)
}

// meetings reads the meetings q selects with their agendas, or with only
// the item of project onlyItem when it is not 0.
func (db *DB) meetings(ctx context.Context, onlyItem int64, q string, args ...any) ([]engine.Meeting, error) {
	var out []engine.Meeting
	err := db.eachRow(ctx, q, args, func(rows *sql.Rows) error {
		var m engine.Meeting
		var body string
		if err := rows.Scan(&m.ID, &body); err != nil {
			return err
		}
		id := m.ID
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return err
		}
		m.ID = id
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, wrap("meetings", err)
	}
	items := `SELECT meeting_id, project_id, project_name, outcome, minutes_sha256,
			COALESCE((SELECT min(d.id) FROM documents d WHERE d.project_id = a.project_id AND d.kind = 'minutes' AND a.minutes_sha256 <> ''
				AND d.sha256 = a.minutes_sha256), 0)
			FROM meeting_agenda a WHERE meeting_id = ?`
	for i := range out {
		q, args := items+` ORDER BY project_id`, []any{out[i].ID}
		if onlyItem != 0 {
			q, args = items+` AND project_id = ?`, append(args, onlyItem)
		}
		// The filed minutes are the project's minutes document of that SHA-256.
		err := db.eachRow(ctx, q, args, func(rows *sql.Rows) error {
			var it engine.AgendaItem
			if err := rows.Scan(&it.MeetingID, &it.ProjectID, &it.ProjectName, &it.Outcome, &it.MinutesSHA256, &it.DocumentID); err != nil {
				return err
			}
			out[i].Agenda = append(out[i].Agenda, it)
			return nil
		})
		if err != nil {
			return nil, wrap("meeting agenda", err)
		}
	}
	return out, nil
}

// AgendaProjects reads, in one snapshot, the projects on a meeting's agenda
// as a list row shows them (summaryColumns: no report, of the figures only
// the total investment), by id, and the conflicts declared on them, by
// project and in the order made: what the meeting's page shows of each item
// and what its tallies need, in two statements however long the agenda.
// An unknown meeting has neither.
func (db *DB) AgendaProjects(ctx context.Context, meetingID int64) ([]*engine.Project, []engine.Conflict, error) {
	var ps []*engine.Project
	var cs []engine.Conflict
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+summaryColumns+` JOIN meeting_agenda a ON a.project_id = p.id
			WHERE a.meeting_id = ? ORDER BY p.id`, meetingID)
		err = forEachRow(rows, err, func(rows *sql.Rows) error {
			p, err := scanSummary(rows)
			if err != nil {
				return err
			}
			ps = append(ps, p)
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+conflictColumns+` JOIN meeting_agenda a ON a.project_id = c.project_id
			WHERE a.meeting_id = ? ORDER BY c.project_id, c.rowid`, meetingID)
		return forEachRow(rows, err, func(rows *sql.Rows) error {
			c, err := scanConflict(rows)
			if err != nil {
				return err
			}
			cs = append(cs, c)
			return nil
		})
	})
	if err != nil {
		return nil, nil, wrap("agenda projects", err)
	}
	return ps, cs, nil
}

// Votes lists a meeting's votes in the order they were cast.
func (db *DB) Votes(ctx context.Context, meetingID int64) ([]engine.Vote, error) {
	return scanJSON[engine.Vote](ctx, db, "votes", `SELECT body FROM meeting_votes WHERE meeting_id = ? ORDER BY rowid`, meetingID)
}

// ItemVotes lists the votes on one agenda item in the order they were cast.
func (db *DB) ItemVotes(ctx context.Context, meetingID, projectID int64) ([]engine.Vote, error) {
	return scanJSON[engine.Vote](ctx, db, "votes", `SELECT body FROM meeting_votes WHERE meeting_id = ? AND project_id = ? ORDER BY rowid`, meetingID, projectID)
}
