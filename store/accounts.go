package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"zonevet/engine"
)

// CreateSession stores a new session. CreatedAt defaults to now and
// LastSeenAt to CreatedAt. A session of an unknown user is not_found.
func (db *DB) CreateSession(ctx context.Context, s *engine.Session) error {
	created := orNow(s.CreatedAt, db.now())
	seen := orNow(s.LastSeenAt, created)
	err := db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, remote_addr) VALUES (?, ?, ?, ?, ?, ?)`,
			s.ID, s.UserID, s.CSRFToken, fmtTime(created), fmtTime(seen), s.RemoteAddr)
		switch {
		case isForeignKey(err):
			return notFound("what.user")
		case isUnique(err):
			return engine.Fail(engine.ECONFLICT, "err.session_already_exists", nil)
		}
		return err
	})
	if err != nil {
		return wrap("create session", err)
	}
	s.CreatedAt, s.LastSeenAt = created, seen
	return nil
}

// Session returns a session by id (the hash of the cookie secret).
func (db *DB) Session(ctx context.Context, id string) (*engine.Session, error) {
	s, _, err := db.SessionUser(ctx, id)
	return s, err
}

// SessionUser returns a session by id with its account, in one read: every
// request signed in by a cookie asks (BENCHMARKS.md, issue 16). A disabled
// account comes back as it is, for the caller to end its sessions. The
// account carries the role generation (User.RoleGeneration).
func (db *DB) SessionUser(ctx context.Context, id string) (*engine.Session, *engine.User, error) {
	s, u := &engine.Session{}, &engine.User{}
	err := db.readRow(ctx, `
			SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.remote_addr, `+qualifiedUserColumns+`, `+roleGenerationSQL+`
			FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id).
		Scan(append([]any{&s.ID, &s.UserID, &s.CSRFToken, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt}, &s.RemoteAddr}, append(userDest(u), &u.RoleGeneration)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound("what.session")
	}
	if err != nil {
		return nil, nil, wrap("session", err)
	}
	return s, u, nil
}

// TouchSession records activity on a session, for idle timeouts.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return wrap("touch session", db.update(ctx, func(tx *sql.Tx) error {
		err := mustAffect(tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, fmtTime(orNow(at, db.now())), id))
		if errors.Is(err, errNoRows) {
			return notFound("what.session")
		}
		return err
	}))
}

// DeleteSession ends a session; ending one that is already gone is not an
// error (signing out twice must not fail).
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	return wrap("delete session", db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	}))
}

// DeleteUserSessions ends every session of a user (after a password change,
// say).
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	return wrap("delete user sessions", db.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	}))
}

// CreateAPIToken stores a token (its hash only) and sets t.ID and t.CreatedAt
// when zero.
func (db *DB) CreateAPIToken(ctx context.Context, t *engine.APIToken) error {
	if t.Hash == "" {
		return engine.FieldFail("hash", "err.token_hash_required", nil)
	}
	created := orNow(t.CreatedAt, db.now())
	var id int64
	err := db.update(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO api_tokens (user_id, name, hash, created_at, last_used_at, revoked, scopes, parks, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.UserID, t.Name, t.Hash, fmtTime(created), fmtTimePtr(t.LastUsedAt), t.Revoked,
			strings.Join(t.Scopes, " "), strings.Join(t.Parks, " "), fmtTimePtr(t.ExpiresAt)).Scan(&id)
		switch {
		case isForeignKey(err):
			return notFound("what.user")
		case isUnique(err):
			return engine.Fail(engine.ECONFLICT, "err.token_already_exists", nil)
		}
		return err
	})
	if err != nil {
		return wrap("create api token", err)
	}
	t.ID, t.CreatedAt = id, created
	return nil
}

const tokenColumns = `id, user_id, name, hash, created_at, last_used_at, revoked, scopes, parks, expires_at, last_used_addr`

// tokenDest are the scan destinations of tokenColumns; finish completes t
// after the scan.
func tokenDest(t *engine.APIToken) (dest []any, finish func()) {
	var scopes, parks string
	return []any{&t.ID, &t.UserID, &t.Name, &t.Hash, timeCol{&t.CreatedAt}, nullTimeCol{&t.LastUsedAt}, &t.Revoked,
			&scopes, &parks, nullTimeCol{&t.ExpiresAt}, &t.LastUsedAddr}, func() {
			t.Scopes, t.Parks = strings.Fields(scopes), strings.Fields(parks)
		}
}

func scanToken(s interface{ Scan(...any) error }) (engine.APIToken, error) {
	var t engine.APIToken
	dest, finish := tokenDest(&t)
	err := s.Scan(dest...)
	finish()
	return t, err
}

// APITokenByHash finds a live token by the SHA-256 of its secret. A revoked
// token, or one whose user is disabled, is not_found: for signing in it is as
// good as no token, and this way no caller can forget to check.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (*engine.APIToken, error) {
	t, _, err := db.APITokenUser(ctx, hash)
	return t, err
}

// APITokenUser is APITokenByHash with the token's account, in one read:
// every API request asks (BENCHMARKS.md, issue 16). The account carries the
// role generation (User.RoleGeneration).
func (db *DB) APITokenUser(ctx context.Context, hash string) (*engine.APIToken, *engine.User, error) {
	t, u := &engine.APIToken{}, &engine.User{}
	dest, finish := tokenDest(t)
	err := db.readRow(ctx, `
			SELECT `+qualifiedTokenColumns+`, `+qualifiedUserColumns+`, `+roleGenerationSQL+`
			FROM api_tokens t JOIN users u ON u.id = t.user_id
			WHERE t.hash = ? AND t.revoked = 0 AND u.disabled = 0`, hash).Scan(append(dest, append(userDest(u), &u.RoleGeneration)...)...)
	finish()
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound("what.token")
	}
	if err != nil {
		return nil, nil, wrap("api token by hash", err)
	}
	return t, u, nil
}

// qualifiedTokenColumns are tokenColumns for a join, the table named t.
var qualifiedTokenColumns = qualify("t", tokenColumns)

// TouchAPIToken records that a token was used, and from where.
func (db *DB) TouchAPIToken(ctx context.Context, id int64, at time.Time, addr string) error {
	return wrap("touch api token", db.update(ctx, func(tx *sql.Tx) error {
		err := mustAffect(tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ?, last_used_addr = ? WHERE id = ?`, fmtTime(orNow(at, db.now())), addr, id))
		if errors.Is(err, errNoRows) {
			return notFound("what.token")
		}
		return err
	}))
}

// APITokens lists a user's tokens, revoked ones included, newest first.
func (db *DB) APITokens(ctx context.Context, userID int64) ([]engine.APIToken, error) {
	var out []engine.APIToken
	err := db.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, wrap("api tokens", err)
}

// RevokeAPIToken revokes one of the user's own tokens. A token of another
// user is not_found, so ids cannot be probed; revoking twice is fine.
func (db *DB) RevokeAPIToken(ctx context.Context, userID, id int64) error {
	return wrap("revoke api token", db.update(ctx, func(tx *sql.Tx) error {
		err := mustAffect(tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ? AND user_id = ?`, id, userID))
		if errors.Is(err, errNoRows) {
			return notFound("what.token")
		}
		return err
	}))
}

// IdempotentResult returns the answer stored under userID's key.
func (db *DB) IdempotentResult(ctx context.Context, userID int64, key string) (*engine.IdempotentResult, error) {
	var r *engine.IdempotentResult
	err := db.view(ctx, func(tx *sql.Tx) (err error) {
		r, err = storedIdempotent(ctx, tx, userID, key)
		return err
	})
	if err != nil {
		return nil, wrap("idempotent result", err)
	}
	if r == nil {
		return nil, notFound("what.idempotency_key")
	}
	return r, nil
}

// RecordIdempotent stores r unless the key already holds an answer, which it
// returns instead. The INSERT ... ON CONFLICT DO NOTHING runs under the write
// lock: of any number of concurrent records, from any process, exactly one
// lands.
func (db *DB) RecordIdempotent(ctx context.Context, r engine.IdempotentResult) (*engine.IdempotentResult, error) {
	if r.Key == "" {
		return nil, engine.FieldFail("Idempotency-Key", "err.idempotency_key_required", nil)
	}
	var existing *engine.IdempotentResult
	err := db.update(ctx, func(tx *sql.Tx) error {
		err := mustAffect(tx.ExecContext(ctx, `
			INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, key) DO NOTHING`,
			r.UserID, r.Key, r.RequestHash, r.Status, r.Body, fmtTime(orNow(r.CreatedAt, db.now()))))
		if isForeignKey(err) {
			return notFound("what.user")
		}
		if !errors.Is(err, errNoRows) {
			return err // nil: stored
		}
		existing, err = storedIdempotent(ctx, tx, r.UserID, r.Key)
		if err != nil {
			return err
		}
		return sameRequest(existing, r.RequestHash)
	})
	if err != nil {
		return nil, wrap("record idempotent", err)
	}
	return existing, nil
}

// storedIdempotent reads the answer under a key, nil when there is none.
func storedIdempotent(ctx context.Context, tx *sql.Tx, userID int64, key string) (*engine.IdempotentResult, error) {
	r := &engine.IdempotentResult{}
	err := tx.QueryRowContext(ctx, `
		SELECT key, user_id, request_hash, status, body, created_at FROM idempotency WHERE user_id = ? AND key = ?`,
		userID, key).
		Scan(&r.Key, &r.UserID, &r.RequestHash, &r.Status, &r.Body, timeCol{&r.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// sameRequest refuses a key reused for another request.
func sameRequest(stored *engine.IdempotentResult, requestHash string) error {
	if stored.RequestHash != requestHash {
		return engine.Fail(engine.ECONFLICT, "err.this_idempotency_key_was_used_for", nil)
	}
	return nil
}

// claimIdempotency runs first in a command's transaction when its request
// carries an Idempotency-Key: a key already answered stops the command with
// an *engine.IdempotentReplay (a savepoint undoes nothing yet), otherwise
// the command goes ahead and recordClaim stores its answer after it.
func claimIdempotency(ctx context.Context, tx *sql.Tx, claim *engine.IdempotencyClaim) error {
	stored, err := storedIdempotent(ctx, tx, claim.UserID, claim.Key)
	if err != nil || stored == nil {
		return err
	}
	if err := sameRequest(stored, claim.RequestHash); err != nil {
		return err
	}
	return &engine.IdempotentReplay{Result: *stored}
}

// recordClaim stores the command's answer under the key, in the command's
// transaction, and returns the record to hand the claim once committed.
// answer must already show what the commit will make true (ids, versions).
func (db *DB) recordClaim(ctx context.Context, tx *sql.Tx, claim *engine.IdempotencyClaim, answer any) (*engine.IdempotentResult, error) {
	body, err := claim.Encode(answer)
	if err != nil {
		return nil, fmt.Errorf("encode idempotent answer: %w", err)
	}
	r := &engine.IdempotentResult{Key: claim.Key, UserID: claim.UserID, RequestHash: claim.RequestHash,
		Status: claim.Status, Body: body, CreatedAt: orNow(claim.CreatedAt, db.now())}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO idempotency (user_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.UserID, r.Key, r.RequestHash, r.Status, r.Body, fmtTime(r.CreatedAt))
	if isForeignKey(err) {
		return nil, notFound("what.user")
	}
	return r, err
}
