package store

import (
	"context"
	"database/sql"
	"errors"

	"zonevet/engine"
)

const userColumns = `id, username, display_name, password_hash, disabled, created_at`

func scanUser(s interface{ Scan(...any) error }) (*engine.User, error) {
	u := &engine.User{}
	err := s.Scan(&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Disabled, timeCol{&u.CreatedAt})
	return u, err
}

// UserByID returns the user with that id.
func (db *DB) UserByID(ctx context.Context, id int64) (*engine.User, error) {
	return db.user(ctx, "user by id", `id = ?`, id)
}

// UserByName returns the user with that username (exact match).
func (db *DB) UserByName(ctx context.Context, username string) (*engine.User, error) {
	return db.user(ctx, "user by name", `username = ?`, username)
}

func (db *DB) user(ctx context.Context, op, where string, arg any) (*engine.User, error) {
	u, err := scanUser(db.readRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound("用户", "User")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return u, nil
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]*engine.User, error) {
	var out []*engine.User
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, wrap("users", err)
}

// endAccess ends every session of the user and revokes every API token.
func endAccess(ctx context.Context, tx *sql.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE user_id = ? AND revoked = 0`, userID)
	return err
}

// Assignments lists every role assignment with the username filled in, by
// park, username and role: the shape casbin's grouping policy is loaded from.
func (db *DB) Assignments(ctx context.Context) ([]engine.RoleAssignment, error) {
	var out []engine.RoleAssignment
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT a.user_id, u.username, a.role, a.park
			FROM role_assignments a JOIN users u ON u.id = a.user_id
			ORDER BY a.park, u.username, a.role`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a engine.RoleAssignment
			if err := rows.Scan(&a.UserID, &a.Username, &a.Role, &a.Park); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, wrap("assignments", err)
}

// errNoRows is what mustAffect returns when a statement touched nothing; the
// caller turns it into the right domain error.
var errNoRows = errors.New("no rows affected")

// mustAffect turns "zero rows affected" into errNoRows.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoRows
	}
	return nil
}

var _ engine.AdminStore = (*DB)(nil)

// ApplyAccount applies an administrator's change to an account and appends
// its log entry in one write transaction: the new user, the enabled flag,
// the password hash, the roles in one park. Disabling or a new password
// ends the user's sessions and revokes the user's API tokens in the same
// transaction, so nobody stays signed in on the old terms. On success it sets c.NewUser's ID and CreatedAt and
// c.Entry's Seq, Time and hashes.
func (db *DB) ApplyAccount(ctx context.Context, c *engine.AccountChange) error {
	e := c.Entry
	e.Time = orNow(e.Time, db.now())
	if e.Event == "" {
		return engine.FieldError("event", "审计事件不能为空", "Audit event is required")
	}
	var id int64
	err := db.update(ctx, func(tx *sql.Tx) error {
		id = c.UserID
		if u := c.NewUser; u != nil {
			res, err := tx.ExecContext(ctx, `INSERT INTO users (username, display_name, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?)`,
				u.Username, u.DisplayName, u.PasswordHash, u.Disabled, fmtTime(orNow(u.CreatedAt, e.Time)))
			if isUnique(err) {
				return engine.Errorf(engine.ECONFLICT, "用户名 %s 已存在", "Username %s is taken", u.Username)
			}
			if err != nil {
				return err
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
		} else {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return notFound("用户", "User")
			}
		}
		// A reset is what an admin does when a password may have leaked, and
		// disabling is ending someone's access: neither leaves a session or
		// a token alive, and re-enabling later revives neither.
		endAll := c.PasswordHash != ""
		if c.Disabled != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, *c.Disabled, id); err != nil {
				return err
			}
			endAll = endAll || *c.Disabled
		}
		if c.PasswordHash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, c.PasswordHash, id); err != nil {
				return err
			}
		}
		if endAll {
			if err := endAccess(ctx, tx, id); err != nil {
				return err
			}
		}
		if c.RolesPark != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = ? AND park = ?`, id, c.RolesPark); err != nil {
				return err
			}
			for _, r := range c.Roles {
				_, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (user_id, role, park) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, string(r), c.RolesPark)
				if isForeignKey(err) {
					return notFound("园区", "Park")
				}
				if err != nil {
					return err
				}
			}
		}
		return db.appendAudit(ctx, tx, &e)
	})
	if err != nil {
		return wrap("apply account", err)
	}
	if u := c.NewUser; u != nil {
		u.ID, u.CreatedAt = id, orNow(u.CreatedAt, e.Time)
	}
	c.Entry = e
	return nil
}
