package store

import (
	"strings"
	"time"

	"context"
	"database/sql"
	"errors"

	"zonevet/engine"
)

const userColumns = `id, username, display_name, password_hash, disabled, created_at, department`

// qualifiedUserColumns are userColumns for a join, the table named u.
var qualifiedUserColumns = qualify("u", userColumns)

// userDest are the scan destinations of userColumns.
func userDest(u *engine.User) []any {
	return []any{&u.ID, &u.Username, &u.DisplayName, &u.PasswordHash, &u.Disabled, timeCol{&u.CreatedAt}, &u.Department}
}

func scanUser(s interface{ Scan(...any) error }) (*engine.User, error) {
	u := &engine.User{}
	err := s.Scan(userDest(u)...)
	return u, err
}

// qualify prefixes each of a comma-separated column list with table.
func qualify(table, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = table + "." + c
	}
	return strings.Join(cols, ", ")
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
		err = notFound("what.user")
	}
	if err != nil {
		return nil, wrap(op, err)
	}
	return u, nil
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]*engine.User, error) {
	var out []*engine.User
	err := db.eachRow(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`, nil, func(rows *sql.Rows) error {
		u, err := scanUser(rows)
		if err != nil {
			return err
		}
		out = append(out, u)
		return nil
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
	_, out, err := db.AssignmentsAt(ctx)
	return out, err
}

const assignmentsSQL = `
	SELECT a.user_id, u.username, a.role, a.park
	FROM role_assignments a JOIN users u ON u.id = a.user_id
	ORDER BY a.park, u.username, a.role`

// AssignmentsAt returns every role assignment with the role generation
// they are at (migrations/00460), read in one snapshot, so a policy built
// from them is known to be exactly that generation's.
func (db *DB) AssignmentsAt(ctx context.Context) (int64, []engine.RoleAssignment, error) {
	var gen int64
	var out []engine.RoleAssignment
	err := db.view(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT n FROM role_generation`).Scan(&gen); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, assignmentsSQL)
		return forEachRow(rows, err, func(rows *sql.Rows) error {
			var a engine.RoleAssignment
			if err := rows.Scan(&a.UserID, &a.Username, &a.Role, &a.Park); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return gen, out, wrap("assignments", err)
}

// roleGenerationSQL is the role generation as a column of an account read.
const roleGenerationSQL = `(SELECT n FROM role_generation)`

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

// writeAccount writes a Change's AccountPart inside tx (the change's entry
// is appended by applyTx in the same transaction): the new user, the
// enabled flag, the password hash, the roles in each park named. Disabling
// or a new password ends the user's sessions and revokes the user's API
// tokens in the same transaction, so nobody stays signed in on the old
// terms. It returns the write-back of the new user's ID and CreatedAt.
func writeAccount(ctx context.Context, tx *sql.Tx, c *engine.AccountPart, at time.Time) (func(), error) {
	id := c.UserID
	created := at
	if u := c.NewUser; u != nil {
		created = orNow(u.CreatedAt, at)
		err := tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, disabled, created_at, department) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Username, u.DisplayName, u.PasswordHash, u.Disabled, fmtTime(created), u.Department).Scan(&id)
		if isUnique(err) {
			return nil, engine.Fail(engine.ECONFLICT, "err.username_taken", engine.Args{"Username": u.Username})
		}
		if err != nil {
			return nil, err
		}
	} else {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, id).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			return nil, notFound("what.user")
		}
	}
	// A reset is what an admin does when a password may have leaked, and
	// disabling is ending someone's access: neither leaves a session or
	// a token alive, and re-enabling later revives neither.
	endAll := c.PasswordHash != ""
	if c.Disabled != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, *c.Disabled, id); err != nil {
			return nil, err
		}
		endAll = endAll || *c.Disabled
	}
	if c.PasswordHash != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, c.PasswordHash, id); err != nil {
			return nil, err
		}
	}
	if m := c.Department; m != nil {
		res, err := tx.ExecContext(ctx, `UPDATE users SET department = ? WHERE id = ? AND department = ?`, m.To, id, m.From)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, engine.Fail(engine.ECONFLICT, "err.account_changed_since_you", nil)
		}
	}
	if endAll {
		if err := endAccess(ctx, tx, id); err != nil {
			return nil, err
		}
	}
	for _, pr := range c.Roles {
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE user_id = ? AND park = ?`, id, pr.Park); err != nil {
			return nil, err
		}
		for _, r := range pr.Roles {
			_, err := tx.ExecContext(ctx, `INSERT INTO role_assignments (user_id, role, park) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, string(r), pr.Park)
			if isForeignKey(err) {
				return nil, notFound("what.park")
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return func() {
		if u := c.NewUser; u != nil {
			u.ID, u.CreatedAt = id, created
		}
	}, nil
}
