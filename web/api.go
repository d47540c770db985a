package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) registerAPIRoutes(g *echo.Group) {
	g.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", openAPIDoc)
	})
	a := g.Group("", requireUser, s.tokenScope, s.idempotent)
	a.GET("/projects", s.handleAPIProjectList)
	a.POST("/projects", s.handleAPIProjectCreate)
	a.GET("/projects/:id", s.handleAPIProjectGet)
	a.PUT("/projects/:id", s.handleAPIProjectUpdate)
	a.POST("/projects/:id/actions", s.handleAPIProjectAct)
	a.POST("/projects/:id/scores", s.handleAPIProjectScore)
	a.GET("/projects/:id/report", s.handleAPIProjectReport)
	a.GET("/projects/:id/history", s.handleAPIProjectHistory)
	s.registerAuditAPIRoutes(a)
	s.registerWorkAPIRoutes(a)
	s.registerRulesAPIRoutes(a)
	s.registerCalendarAPIRoutes(a)
	s.registerMeetingsAPIRoutes(a)
	s.registerAdminAPIRoutes(a)
	s.registerVerbsAPIRoutes(a)
	s.registerExpertsAPIRoutes(a)
}

// projectList is the API's page of projects.
type projectList struct {
	Items  []*engine.Project `json:"items"`
	Total  int               `json:"total"`
	Limit  int               `json:"limit"`
	Offset int               `json:"offset"`
}

func (s *Server) handleAPIProjectList(c echo.Context) error {
	_, f := s.parseListQuery(c)
	var err error
	if f.Parks, err = s.tokenParkFilter(c, f.Parks); err != nil {
		return err
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return engine.FieldFail("limit", "err.limit_must_be_1_500", nil)
		}
		f.Limit = n
	}
	if v := c.QueryParam("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return engine.FieldFail("offset", "err.offset_must_be_non_negative_integer", nil)
		}
		f.Offset = n
	}
	if st := c.QueryParam("state"); st != "" && !validState(st) {
		return engine.FieldFail("state", "err.unknown_state", nil)
	}
	ps, total, err := s.svc.Projects(c.Request().Context(), currentUser(c), f)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*engine.Project{}
	}
	return c.JSON(http.StatusOK, projectList{Items: ps, Total: total, Limit: f.Limit, Offset: f.Offset})
}

func validState(st string) bool {
	for _, x := range engine.States {
		if string(x) == st {
			return true
		}
	}
	return false
}

func (s *Server) handleAPIProjectCreate(c echo.Context) error {
	var in engine.ProjectInput
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	answering(c, http.StatusCreated)
	p, err := s.svc.CreateProject(c.Request().Context(), currentUser(c), in)
	if err != nil {
		return err
	}
	return answer(c, http.StatusCreated, p)
}

func (s *Server) handleAPIProjectGet(c echo.Context) error {
	p, err := s.apiProject(c)
	if err != nil {
		return err
	}
	if err := s.svc.NoteRead(c.Request().Context(), currentUser(c), p); err != nil { // a sharee's read is logged
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// projectUpdate is the body of PUT /projects/{id}: the form plus the version
// the client saw.
type projectUpdate struct {
	engine.ProjectInput
	Version int64 `json:"version"`
}

func (s *Server) handleAPIProjectUpdate(c echo.Context) error {
	id, err := s.readableID(c)
	if err != nil {
		return err
	}
	var in projectUpdate
	if err := s.decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Version <= 0 {
		return errVersionRequired
	}
	p, err := s.svc.UpdateProject(c.Request().Context(), currentUser(c), id, in.Version, in.ProjectInput)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) handleAPIProjectAct(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var act engine.Action
	if err := s.decodeJSON(c, &act); err != nil {
		return s.unlessUnreadable(c, id, err)
	}
	if act.Event == "" {
		return s.unlessUnreadable(c, id, engine.FieldFail("event", "err.give_event", nil))
	}
	if act.Version <= 0 {
		return s.unlessUnreadable(c, id, errVersionRequired)
	}
	answering(c, http.StatusOK)
	p, err := s.svc.Act(c.Request().Context(), currentUser(c), id, act)
	if err != nil {
		return s.unlessUnreadable(c, id, err)
	}
	return answer(c, http.StatusOK, p)
}

func (s *Server) handleAPIProjectScore(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	var in engine.ScoreInput
	if err := s.decodeJSON(c, &in); err != nil {
		return s.unlessUnreadable(c, id, err)
	}
	answering(c, http.StatusCreated)
	out, err := s.svc.Score(c.Request().Context(), currentUser(c), id, in)
	if err != nil {
		return s.unlessUnreadable(c, id, err)
	}
	return answer(c, http.StatusCreated, out)
}

func (s *Server) handleAPIProjectReport(c echo.Context) error {
	p, err := s.apiProject(c)
	if err != nil {
		return err
	}
	if p.Report == nil {
		return engine.Fail(engine.ENOTFOUND, "err.project_has_not_been_submitted_no", nil)
	}
	return c.JSON(http.StatusOK, p.Report)
}

func (s *Server) handleAPIProjectHistory(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	h, err := s.svc.History(c.Request().Context(), currentUser(c), id)
	if err != nil {
		return err
	}
	if h == nil {
		h = []engine.AuditEntry{}
	}
	return c.JSON(http.StatusOK, h)
}

// idempotent gives a POST carrying an Idempotency-Key its effect once: the
// first request's status and body are stored, a retry gets them back, and the
// same key on a different request is a conflict.
//
// An action's answer is stored by the store in the action's own transaction
// (engine.IdempotencyClaim), so a crash leaves either the effect and its
// answer or neither, never a key "still running". A request refused without
// effect (4xx) stores its refusal afterwards, in a transaction of its own; a
// server error or a "too many requests" stores nothing, so the retry runs.
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if c.Request().Method != http.MethodPost || key == "" {
			return next(c)
		}
		if len(key) > 200 {
			return engine.FieldFail("Idempotency-Key", "err.idempotency_key_may_have_at_most", nil)
		}
		ctx := c.Request().Context()
		u := currentUser(c)
		body, err := io.ReadAll(c.Request().Body) // bounded by the body limit (loadSession)
		if tooLarge(err) {
			return s.errTooLarge(c)
		}
		if err != nil {
			return engine.FieldFail("body", "err.could_not_read_request_body", nil)
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256([]byte(c.Request().Method + " " + c.Request().URL.Path + "\n" + string(body)))
		claim := &engine.IdempotencyClaim{Key: key, UserID: u.ID, RequestHash: hex.EncodeToString(sum[:]), CreatedAt: s.svc.Now(),
			Encode: encodeAnswer}
		prev, err := s.accounts.IdempotentResult(ctx, u.ID, key)
		switch {
		case err == nil:
			return replayIdempotent(c, prev, claim.RequestHash)
		case engine.ErrorCode(err) != engine.ENOTFOUND:
			return err
		}
		c.SetRequest(c.Request().WithContext(engine.WithIdempotencyClaim(ctx, claim)))
		tee := &teeWriter{ResponseWriter: c.Response().Writer}
		c.Response().Writer = tee
		herr := next(c)
		var replay *engine.IdempotentReplay
		if errors.As(herr, &replay) && !c.Response().Committed {
			c.Response().Writer = tee.ResponseWriter
			return replayIdempotent(c, &replay.Result, claim.RequestHash)
		}
		if r := claim.Recorded; r != nil {
			// The action committed with its answer: that answer is the
			// response, whatever went wrong after it.
			if herr != nil {
				s.log.Error("after an idempotent action", "key", key, "err", herr)
				if !c.Response().Committed {
					c.Response().Writer = tee.ResponseWriter
					return c.Blob(r.Status, echo.MIMEApplicationJSON, r.Body)
				}
			}
			return nil
		}
		if herr != nil {
			status, apiErr := s.classify(c, herr)
			if c.Response().Committed || status >= 500 || status == http.StatusTooManyRequests {
				return herr // the retry must run: nothing is stored
			}
			// A refusal changed nothing; it is stored unless another request
			// with this key answered first, whose answer then stands.
			body, err := encodeAnswer(apiErr)
			if err != nil {
				return err
			}
			rec := engine.IdempotentResult{Key: key, UserID: u.ID, RequestHash: claim.RequestHash, Status: status,
				Body: body, CreatedAt: claim.CreatedAt}
			prev, err := s.accounts.RecordIdempotent(ctx, rec)
			if err != nil {
				return err
			}
			c.Response().Writer = tee.ResponseWriter
			if prev != nil {
				return replayIdempotent(c, prev, claim.RequestHash)
			}
			s.logRefusal(c, status, apiErr.Message)
			return c.Blob(status, echo.MIMEApplicationJSON, body)
		}
		// A handler whose command carries no Answer (none today) stores its
		// answer after the fact: a crash in between forgets the key, and the
		// retry runs again rather than waiting forever.
		if status := c.Response().Status; status > 0 && status < 500 {
			rec := engine.IdempotentResult{Key: key, UserID: u.ID, RequestHash: claim.RequestHash, Status: status,
				Body: tee.buf.Bytes(), CreatedAt: claim.CreatedAt}
			if _, err := s.accounts.RecordIdempotent(ctx, rec); err != nil {
				s.log.Error("record idempotent answer", "key", key, "err", err)
			}
		}
		return nil
	}
}

// replayIdempotent answers with a stored result, or refuses the key reused
// for another request.
func replayIdempotent(c echo.Context, r *engine.IdempotentResult, requestHash string) error {
	if r.RequestHash != requestHash {
		return engine.Fail(engine.ECONFLICT, "err.this_idempotency_key_was_used_for", nil)
	}
	c.Response().Header().Set("Idempotent-Replayed", "true")
	return c.Blob(r.Status, echo.MIMEApplicationJSON, r.Body)
}

// answering tells the request's Idempotency-Key, if any, the status this
// handler answers with on success; call it before acting.
func answering(c echo.Context, status int) {
	engine.AnswerWith(c.Request().Context(), status)
}

// answer sends v, or, when the action stored its answer under the request's
// Idempotency-Key, those bytes: the first answer and its replays are one.
func answer(c echo.Context, status int, v any) error {
	if r := engine.RecordedIdempotent(c.Request().Context()); r != nil {
		return c.Blob(r.Status, echo.MIMEApplicationJSON, r.Body)
	}
	if _, pretty := c.QueryParams()["pretty"]; pretty || c.Echo().Debug {
		return c.JSON(status, v)
	}
	return writeAnswer(c, status, v)
}

// teeWriter copies the response body so it can be stored for a replay.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.buf.Write(b)
	return t.ResponseWriter.Write(b)
}
