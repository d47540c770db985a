package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// registerAuditAPIRoutes registers the decision log for machines: pages of
// entries after a seq (the audit page's filters apply), the checkpoints and
// the public key that signs them. Pulls are rate-limited per token (per
// signed-in user without one).
func (s *Server) registerAuditAPIRoutes(g *echo.Group) {
	a := g.Group("/audit", s.limitPulls)
	a.GET("/entries", s.handleAPIAuditEntries)
	a.GET("/checkpoints", s.handleAPIAuditCheckpoints)
	a.GET("/pubkey", s.handleAPIAuditPubkey)
}

// defaultPullPage is the page size when the caller names none.
const defaultPullPage = 100

// auditPullPage is a page of the log as JSON: the entries, the checkpoint
// part (engine.PullPage, where proofs will join it) and where to go on.
type auditPullPage struct {
	Entries []engine.AuditEntry `json:"entries"`
	*engine.PullPage
	// Next is the after= of the next page: the last entry's seq, or the
	// request's after when the page is empty.
	Next int64 `json:"next"`
	// More says the page is full: there may be entries after Next.
	More bool `json:"more"`
}

// handleAPIAuditEntries answers GET /api/v1/audit/entries?after=SEQ&limit=N
// with the filters of the audit page. As JSON (the default) a page holds at
// most engine.MaxPullPage entries; as JSON Lines (format=jsonl, or Accept:
// application/x-ndjson) the entries stream in the export's own format, in
// constant memory, with the checkpoints riding on their lines and those past
// the page on its last line, as an export file carries them.
func (s *Server) handleAPIAuditEntries(c echo.Context) error {
	_, aq, err := s.parseAuditForm(c)
	if err != nil {
		return err
	}
	if aq.Parks, err = s.tokenParkFilter(c, aq.Parks); err != nil {
		return err
	}
	q := engine.PullQuery{AuditQuery: aq, Limit: defaultPullPage}
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return engine.FieldFail("after", "err.after_must_non_negative_2", nil)
		}
		q.After = n
	}
	stream := c.QueryParam("format") == "jsonl" || c.QueryParam("format") == "" && strings.Contains(c.Request().Header.Get("Accept"), "application/x-ndjson")
	if f := c.QueryParam("format"); f != "" && f != "jsonl" && f != "json" {
		return engine.FieldFail("format", "err.format_must_json_or", nil)
	}
	maxLimit := engine.MaxPullPage
	if stream {
		maxLimit = engine.MaxPullStream
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return engine.FieldFail("limit", "err.limit_range", engine.Args{"Max": maxLimit})
		}
		q.Limit = n
	}
	ctx := c.Request().Context()
	if stream {
		var aw engine.AuditWriter
		err := s.auditLog().Pull(ctx, currentUser(c), q, func(page *engine.PullPage, after []engine.Checkpoint) error {
			h := c.Response().Header()
			h.Set(echo.HeaderContentType, engine.ContentType("jsonl"))
			h.Set("Zonevet-Complete", strconv.FormatBool(page.Complete))
			if page.Head != nil {
				h.Set("Zonevet-Head", strconv.FormatInt(page.Head.Seq, 10)+" "+page.Head.Hash)
			}
			if page.Checkpoint != nil {
				// The latest checkpoint may lie before the page, where no
				// line carries it: the header always does.
				b, err := json.Marshal(page.Checkpoint)
				if err != nil {
					return err
				}
				h.Set("Zonevet-Checkpoint", string(b))
			}
			c.Response().WriteHeader(http.StatusOK)
			var err error
			if aw, err = engine.NewAuditWriter(c.Response(), "jsonl", s.loc, engine.ExportLabels{}); err != nil {
				return err
			}
			return aw.Checkpoints(after)
		}, func(e *engine.AuditEntry) error { return aw.Entry(e) })
		if err != nil {
			if c.Response().Committed {
				// Cut short mid-stream: the client sees a page without its
				// last line's checkpoints and resumes from what it holds.
				s.log.Error("audit pull stream", "err", err)
				return nil
			}
			return err
		}
		return aw.Close()
	}
	out := auditPullPage{Entries: []engine.AuditEntry{}, Next: q.After}
	var after []engine.Checkpoint
	err = s.auditLog().Pull(ctx, currentUser(c), q, func(page *engine.PullPage, cps []engine.Checkpoint) error {
		out.PullPage, after = page, cps
		return nil
	}, func(e *engine.AuditEntry) error {
		out.Entries = append(out.Entries, *e)
		return nil
	})
	if err != nil {
		return err
	}
	if n := len(out.Entries); n > 0 {
		out.Next = out.Entries[n-1].Seq
		for _, cp := range after {
			if cp.Seq <= out.Next {
				out.Checkpoints = append(out.Checkpoints, cp)
			}
		}
	}
	out.More = len(out.Entries) == q.Limit
	return c.JSON(http.StatusOK, out)
}

// checkpointList is the answer of GET /api/v1/audit/checkpoints.
type checkpointList struct {
	Checkpoints []engine.Checkpoint `json:"checkpoints"`
}

// handleAPIAuditCheckpoints lists the signed checkpoints after a seq, oldest
// first: a puller fetches those signed since it last looked.
func (s *Server) handleAPIAuditCheckpoints(c echo.Context) error {
	var after int64
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return engine.FieldFail("after", "err.after_must_non_negative", nil)
		}
		after = n
	}
	if _, err := s.tokenParkFilter(c, nil); err != nil {
		return err
	}
	all, err := s.auditLog().Checkpoints(c.Request().Context(), currentUser(c))
	if err != nil {
		return err
	}
	out := checkpointList{Checkpoints: []engine.Checkpoint{}}
	for _, cp := range all {
		if cp.Seq > after {
			out.Checkpoints = append(out.Checkpoints, cp)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// pubkeyAnswer is the checkpoint signing key's public half.
type pubkeyAnswer struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
}

// handleAPIAuditPubkey gives the key checkpoints are signed with, to whoever
// may read or verify the log. A careful puller compares its fingerprint with
// one obtained another way (the operator reads it out) before trusting it.
func (s *Server) handleAPIAuditPubkey(c echo.Context) error {
	l := s.auditLog()
	ctx := c.Request().Context()
	if !l.CanAudit(ctx, currentUser(c), "read") && !l.CanAudit(ctx, currentUser(c), "verify") {
		return engine.Fail(engine.EFORBIDDEN, "err.you_may_not_read_decision_log", nil)
	}
	pub := l.PublicKey()
	if pub == nil {
		return engine.Fail(engine.ENOTFOUND, "err.server_holds_no_signing", nil)
	}
	return c.JSON(http.StatusOK, pubkeyAnswer{Key: engine.PublicKeyString(pub), Fingerprint: engine.KeyFingerprint(pub)})
}

// pullLimiter paces each token's (or signed-in user's) reads of the log: a
// nightly pull of the whole log in pages runs at full speed within the
// burst and then at the steady rate; a loop gone wrong cannot make the
// server sign and scan without end. Its buckets live in the database
// beside the sign-in throttle's counts (engine.AccountStore.UpdateLimitCounts),
// so processes sharing one share each caller's budget: three behind a load
// balancer allow the rate of one. A bucket is the one time at which it is
// full again (the generic cell rate algorithm: x/time/rate's token bucket
// in a timestamp); a pull let through moves it on by one interval, a
// refusal only reads it, and a full bucket is no row at all.
type pullLimiter struct {
	store engine.AccountStore
	every time.Duration // the refill time of one pull
	burst int
}

func newPullLimiter(store engine.AccountStore, perSecond float64, burst int) *pullLimiter {
	return &pullLimiter{store: store, every: time.Duration(float64(time.Second) / perSecond), burst: burst}
}

// wait is zero if key may go now, and counts its pull, else how long until
// it may.
func (p *pullLimiter) wait(ctx context.Context, key string, now time.Time) (wait time.Duration, err error) {
	err = p.store.UpdateLimitCounts(ctx, now, []string{limitKey("pull", key)}, func(c []*engine.LimitCount) bool {
		full := c[0].Expires
		if full.Before(now) {
			full = now
		}
		next := full.Add(p.every)
		if wait = next.Sub(now) - time.Duration(p.burst)*p.every; wait > 0 {
			return false
		}
		wait = 0
		c[0].Expires = next
		return true
	})
	return wait, err
}

// limitPulls refuses a caller over its rate with 429 and Retry-After.
func (s *Server) limitPulls(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u == nil {
			return engine.Fail(engine.EUNAUTHORIZED, "err.please_sign_in", nil)
		}
		key := "user:" + strconv.FormatInt(u.ID, 10)
		if tok := currentToken(c); tok != nil {
			key = "token:" + strconv.FormatInt(tok.ID, 10)
		}
		d, err := s.pulls.wait(c.Request().Context(), key, s.svc.Now())
		if err != nil {
			return err
		}
		if d > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(max(int((d+time.Second-1)/time.Second), 1)))
			return &echo.HTTPError{Code: http.StatusTooManyRequests, Message: s.pullsTooFast(c)}
		}
		return next(c)
	}
}

func (s *Server) pullsTooFast(c echo.Context) string { return s.t(c, "log.pulls_too_fast") }

// currentToken is the API token the request came with, or nil.
func currentToken(c echo.Context) *engine.APIToken {
	t, _ := c.Get(ctxToken).(*engine.APIToken)
	return t
}

// tokenParkFilter narrows a request's parks to those its API token may
// reach: a token restricted to parks reads only there, whatever the
// owner's roles elsewhere. Without a token, or a token for all the owner's
// parks, the parks asked for stand.
func (s *Server) tokenParkFilter(c echo.Context, asked []string) ([]string, error) {
	tok := currentToken(c)
	if tok == nil || len(tok.Parks) == 0 {
		return asked, nil
	}
	if len(asked) == 0 {
		return tok.Parks, nil
	}
	var keep []string
	for _, p := range asked {
		if contains(tok.Parks, p) {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return nil, engine.Fail(engine.EFORBIDDEN, "err.token_may_not_reach", nil)
	}
	return keep, nil
}
