package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// formKeyField is the hidden input every state-changing form carries: a
// one-time key made when the page was rendered (template func formkey). It
// is the form's own Idempotency-Key: the first post of a form acts, a repeat
// (a double click, a resend after a timeout, the back button) is answered
// with the first post's result instead of acting again.
const formKeyField = "form_key"

// formOnce gives an HTML form post carrying a form key its effect once,
// through the API's idempotency (engine.IdempotencyClaim): a command with an
// Answer (registering a project, a workflow action) stores the key in its own
// transaction, so two concurrent posts of one form make one project; any
// other successful post (a redirect) stores its answer right after. A
// refused post stores nothing: the form comes back with a fresh key.
func (s *Server) formOnce(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		u := currentUser(c)
		if r.Method != http.MethodPost || u == nil || strings.HasPrefix(r.URL.Path, "/api/") {
			return next(c)
		}
		key := c.FormValue(formKeyField)
		if key == "" || len(key) > 100 {
			return next(c)
		}
		key = "form:" + key
		// The key names one rendering of one form: a repeat is the same
		// request whatever was edited in between.
		sum := sha256.Sum256([]byte(r.URL.Path + "\n" + key))
		fallback := r.URL.Path
		claim := &engine.IdempotencyClaim{Key: key, UserID: u.ID, RequestHash: hex.EncodeToString(sum[:]), CreatedAt: s.svc.Now(),
			Status: http.StatusSeeOther, Encode: func(answer any) ([]byte, error) { return []byte(formLocation(answer, fallback)), nil }}
		ctx := r.Context()
		prev, err := s.accounts.IdempotentResult(ctx, u.ID, key)
		switch {
		case err == nil:
			return s.replayForm(c, prev)
		case engine.ErrorCode(err) != engine.ENOTFOUND:
			return err
		}
		c.SetRequest(r.WithContext(engine.WithIdempotencyClaim(ctx, claim)))
		herr := next(c)
		var replay *engine.IdempotentReplay
		if errors.As(herr, &replay) && !c.Response().Committed {
			return s.replayForm(c, &replay.Result)
		}
		if herr != nil || claim.Recorded != nil || c.Response().Status != http.StatusSeeOther {
			return herr
		}
		loc := c.Response().Header().Get(echo.HeaderLocation)
		rec := engine.IdempotentResult{Key: key, UserID: u.ID, RequestHash: claim.RequestHash, Status: http.StatusSeeOther,
			Body: []byte(loc), CreatedAt: claim.CreatedAt}
		if _, err := s.accounts.RecordIdempotent(ctx, rec); err != nil {
			s.log.Error("record form key", "key", key, "err", err)
		}
		return nil
	}
}

// formLocation is where a form's answer is shown: a project's page, or the
// page the form posted to.
func formLocation(answer any, fallback string) string {
	if p, ok := answer.(*engine.Project); ok && p.ID > 0 {
		return fmt.Sprintf("/projects/%d", p.ID)
	}
	return fallback
}

// replayForm answers a repeated form with the first post's result: the page
// it led to, and a word that nothing was done twice.
func (s *Server) replayForm(c echo.Context, r *engine.IdempotentResult) error {
	loc := string(r.Body)
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
		loc = "/"
	}
	s.flash(c, true, s.t(c, "form.already_done"))
	c.Response().Header().Set("Idempotent-Replayed", "true")
	return c.Redirect(http.StatusSeeOther, loc)
}
