package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/semaphore"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// Context keys set by the middleware.
const (
	ctxLang    = "zv.lang"
	ctxUser    = "zv.user"
	ctxSession = "zv.session"
	ctxToken   = "zv.token"
)

// Cookie names. The session cookie carries a secret whose SHA-256 is the
// stored session id, so a leaked database does not yield live sessions.
const (
	cookieSession   = "zv_session"
	cookiePreCSRF   = "zv_csrf"
	touchEvery      = time.Minute // idle tracking granularity: one write a minute, not one a request
	csrfFormField   = "csrf"
	csrfHeader      = "X-CSRF-Token"
	maxFormOverhead = 1 << 20
)

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // cannot happen on a supported OS
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// currentUser is the signed-in user of the request, or nil.
func currentUser(c echo.Context) *engine.User {
	u, _ := c.Get(ctxUser).(*engine.User)
	return u
}

func currentSession(c echo.Context) *engine.Session {
	s, _ := c.Get(ctxSession).(*engine.Session)
	return s
}

// loadSession identifies the user from the session cookie or, on the API, a
// bearer token; enforces idle and absolute timeouts and disabled accounts;
// brings the role policy up to the store's role generation, read with the
// token or session (Service.CatchUpRoles); and checks CSRF on every
// state-changing request that a cookie authenticates.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		now := s.svc.Now()
		if unsafeMethod(req.Method) {
			// One limit for every body, forms, uploads and the API alike,
			// checked before anything reads it: a body too large is a 413,
			// never a CSRF refusal nor a 926 MB JSON decode.
			if req.ContentLength > s.bodyLimit() {
				return s.errTooLarge(c)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.bodyLimit())
		}
		if auth := req.Header.Get("Authorization"); isAPI(c) && auth != "" {
			secret, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				return engine.Fail(engine.EUNAUTHORIZED, "err.authorization_header_must_be_bearer_token", nil)
			}
			// The token and its account in one read, live ones only: a
			// revoked token or a disabled account is refused here.
			tok, u, err := s.accounts.APITokenUser(ctx, hashToken(strings.TrimSpace(secret)))
			if err != nil || tok.Revoked || u.Disabled {
				return engine.Fail(engine.EUNAUTHORIZED, "err.api_token_is_invalid_or_revoked", nil)
			}
			if err := s.svc.CatchUpRoles(ctx, u.RoleGeneration); err != nil {
				return err
			}
			if err := s.useToken(c, tok, u, now); err != nil {
				return err
			}
			c.Set(ctxUser, u)
			c.Set(ctxToken, tok)
			return next(c) // a bearer token is not sent by browsers on their own: no CSRF
		}
		if ck, err := c.Cookie(cookieSession); err == nil && ck.Value != "" {
			if sess, u := s.resumeSession(c, ck.Value, now); u != nil {
				if err := s.svc.CatchUpRoles(ctx, u.RoleGeneration); err != nil {
					return err
				}
				c.Set(ctxUser, u)
				c.Set(ctxSession, sess)
			} else {
				s.clearSessionCookie(c)
			}
		}
		if unsafeMethod(req.Method) {
			if err := s.checkCSRF(c); err != nil {
				return err
			}
		}
		return next(c)
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// resumeSession returns the live session and its user, ending sessions that
// timed out or whose account was disabled.
func (s *Server) resumeSession(c echo.Context, secret string, now time.Time) (*engine.Session, *engine.User) {
	ctx := c.Request().Context()
	sess, u, err := s.accounts.SessionUser(ctx, hashToken(secret))
	if err != nil {
		return nil, nil
	}
	if now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout || now.Sub(sess.CreatedAt) > s.cfg.AbsoluteTimeout {
		_ = s.accounts.DeleteSession(ctx, sess.ID)
		return nil, nil
	}
	if u.Disabled {
		_ = s.accounts.DeleteUserSessions(ctx, u.ID)
		return nil, nil
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.accounts.TouchSession(ctx, sess.ID, now); err == nil {
			sess.LastSeenAt = now
		}
	}
	return sess, u
}

// csrfToken is the token a form on this page must send back: the session's
// when signed in, else a pre-session double-submit cookie (the sign-in form).
func (s *Server) csrfToken(c echo.Context) string {
	if sess := currentSession(c); sess != nil {
		return sess.CSRFToken
	}
	if tok := s.preCSRF(c); tok != "" {
		return tok
	}
	tok := randomToken()
	c.SetCookie(&http.Cookie{Name: s.preCSRFCookie(), Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies})
	c.Request().AddCookie(&http.Cookie{Name: s.preCSRFCookie(), Value: tok}) // visible to later calls in this request
	return tok
}

// preCSRFCookie names the sign-in form's double-submit cookie. Served over
// TLS it carries the __Host- prefix: a browser accepts such a cookie only
// from this very origin over HTTPS, with Path=/ and no Domain, so neither a
// sibling subdomain nor a plain-HTTP man in the middle can plant one.
func (s *Server) preCSRFCookie() string {
	if s.cfg.SecureCookies {
		return "__Host-" + cookiePreCSRF
	}
	return cookiePreCSRF
}

func (s *Server) preCSRF(c echo.Context) string {
	if ck, err := c.Cookie(s.preCSRFCookie()); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	return ""
}

// checkCSRF accepts a state-changing request only with the token it must
// carry. A signed-in request must carry its session's token: a cookie can be
// planted by a sibling host, so a double-submit cookie never speaks for a
// session. Only the sign-in form itself takes the pre-session cookie's token,
// signed in or not (a second tab may post it after the first signed in).
func (s *Server) checkCSRF(c echo.Context) error {
	req := c.Request()
	sent := req.Header.Get(csrfHeader)
	if sent == "" {
		if err := parseForm(req); err != nil {
			if tooLarge(err) {
				return s.errTooLarge(c)
			}
			return engine.FieldFail("body", "err.form_could_not_be_read", nil)
		}
		sent = c.FormValue(csrfFormField)
	}
	var wants []string
	if sess := currentSession(c); sess != nil {
		wants = append(wants, sess.CSRFToken)
	}
	if currentSession(c) == nil || c.Path() == "/login" {
		wants = append(wants, s.preCSRF(c))
	}
	ok := false
	for _, want := range wants {
		ok = ok || sent != "" && want != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
	}
	if !ok {
		return engine.Fail(engine.EFORBIDDEN, "err.form_has_expired_or_did_not", nil)
	}
	return nil
}

// parseForm reads a form body now, so that a body over the limit is seen as
// that rather than as a form without its CSRF field.
func parseForm(req *http.Request) error {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		return req.ParseMultipartForm(32 << 20)
	}
	return req.ParseForm()
}

// bodyLimit is the most any request body may hold: one document at the
// upload limit and the form around it.
func (s *Server) bodyLimit() int64 { return s.cfg.MaxUpload + maxFormOverhead }

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// errTooLarge is the 413 for a body over the limit, naming the limit the
// user can act on: the document's size.
func (s *Server) errTooLarge(c echo.Context) error {
	msg := s.i18n.T(s.lang(c), "err.file_too_large", engine.Args{"MB": s.cfg.MaxUpload >> 20})
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge, msg)
}

func (s *Server) setSessionCookie(c echo.Context, secret string) {
	c.SetCookie(&http.Cookie{Name: cookieSession, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, MaxAge: int(s.cfg.AbsoluteTimeout.Seconds())})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: cookieSession, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, MaxAge: -1})
}

// requireUser refuses requests without a signed-in user.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) == nil {
			return engine.Fail(engine.EUNAUTHORIZED, "err.please_sign_in", nil)
		}
		return next(c)
	}
}

func (s *Server) registerAuthRoutes(e *echo.Echo) {
	e.GET("/login", s.handleLoginPage)
	e.POST("/login", s.handleLogin)
	e.POST("/logout", s.handleLogout)
}

type loginData struct {
	Username  string
	Next      string
	Error     string
	Demo      *DemoLogins
	ParkNames map[string]string
}

func (s *Server) handleLoginPage(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	pd := s.page(c, s.t(c, "login.title"))
	d := loginData{Next: safeNext(c.QueryParam("next")), Demo: s.cfg.Demo}
	if d.Demo != nil {
		parks, err := s.svc.AllParks(c.Request().Context())
		if err != nil {
			return err
		}
		d.ParkNames = s.parkNames(parks, s.lang(c))
	}
	pd.Data = d
	return s.render(c, http.StatusOK, "login", pd)
}

// handleLogin signs a user in: throttled per (account, address) and per
// address, with the password check itself behind a gate that bounds the
// argon2id work in flight; a fresh session id on every sign-in (never
// reusing one the browser brought), and the same answer for an unknown name
// and a wrong password.
func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	fail := func(status int, msg string) error {
		pd := s.page(c, s.t(c, "login.title"))
		pd.Data = loginData{Username: username, Next: next, Error: msg}
		return s.render(c, status, "login", pd)
	}
	tooMany := func(wait time.Duration, msg string) error {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(int((wait+time.Second-1)/time.Second), 1)))
		return fail(http.StatusTooManyRequests, msg)
	}
	addr := c.RealIP()
	wait, err := s.limiter.begin(ctx, username, addr)
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(wait, s.i18n.T(s.lang(c), "login.wait", map[string]any{"Wait": waitText(wait, s.lang(c))}))
	}
	release, ok := s.hashGate.enter(ctx)
	if !ok {
		if err := s.limiter.refund(ctx, username, addr); err != nil {
			return err
		}
		return tooMany(time.Second, s.t(c, "login.busy"))
	}
	u, err := s.svc.Authenticate(ctx, username, password)
	release()
	if err != nil {
		if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
			s.logLogin(c, false, username)
			return fail(http.StatusUnauthorized, engine.ErrorMessage(err, s.lang(c)))
		}
		return errors.Join(err, s.limiter.refund(ctx, username, addr))
	}
	if err := s.limiter.succeeded(ctx, username, addr); err != nil {
		return err
	}
	if old := currentSession(c); old != nil {
		_ = s.accounts.DeleteSession(ctx, old.ID)
	}
	secret := randomToken()
	now := s.svc.Now()
	sess := &engine.Session{ID: hashToken(secret), UserID: u.ID, CSRFToken: randomToken(),
		CreatedAt: now, LastSeenAt: now, RemoteAddr: addr}
	if err := s.accounts.CreateSession(ctx, sess); err != nil {
		return err
	}
	s.setSessionCookie(c, secret)
	s.logLogin(c, true, u.Username)
	return c.Redirect(http.StatusSeeOther, next)
}

// waitText says how long to wait in whole seconds or minutes, rounded up.
func waitText(d time.Duration, lang string) string {
	if d <= time.Minute {
		return catalog.T(lang, "wait.seconds", catalog.Args{"N": int((d + time.Second - 1) / time.Second)})
	}
	return catalog.T(lang, "wait.minutes", catalog.Args{"N": int((d + time.Minute - 1) / time.Minute)})
}

func (s *Server) handleLogout(c echo.Context) error {
	if sess := currentSession(c); sess != nil {
		if err := s.accounts.DeleteSession(c.Request().Context(), sess.ID); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// loginLimiter throttles sign-in attempts. Its counts live in the database
// (engine.AccountStore.UpdateLimitCounts), so every process sharing one
// counts the same failures: three processes behind a load balancer give an
// attacker the attempts of one. Each attempt let through is one small write
// beside the argon2id check it guards; a refused one is a read, so a flood
// the throttle is refusing keeps off the writer that decisions need. The
// rows expire, so a flood leaves no log.
//
// Two limits, neither of which lets a stranger lock a user out:
//   - per (account, address): the first `free` failures cost nothing; after
//     that each further attempt waits a delay that doubles with every
//     failure (base, 2×base, … capped at the window). A flood against an
//     account from one address slows that address only; the owner signs in
//     from theirs at once. A success clears the pair.
//   - per address: at most perAddr attempts not followed by a success in a
//     sliding window, so one address cannot walk through many accounts.
//
// An attempt is counted when it starts (so concurrent attempts cannot all
// slip through before the first fails) and refunded on success.
type loginLimiter struct {
	store   engine.AccountStore
	now     func() time.Time
	window  time.Duration
	free    int
	perAddr int
	base    time.Duration
}

// loginBackoffBase is the first delay once an (account, address) pair has
// used its free attempts: long enough to stop guessing, short enough that a
// user who mistyped waits less than a minute.
const loginBackoffBase = 30 * time.Second

func newLoginLimiter(store engine.AccountStore, free int, window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{store: store, now: now, window: window, free: free, perAddr: 5 * free, base: loginBackoffBase}
}

// keys are the stored keys of the (account, address) pair and of the
// address: hashes, so the table holds no names or addresses and a pasted
// megabyte is no longer a key. The account is case folded.
func (l *loginLimiter) keys(account, addr string) []string {
	return []string{limitKey("pair", strings.ToLower(account), addr), limitKey("addr", addr)}
}

// limitKey is the stored key of a shared limit's count: a hash of the
// limit's name and what it counts, so limits never share a row.
func limitKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])
}

// update runs change on the pair's and the address's counts at now and,
// when change reports a change, stores them, each kept until it can no
// longer limit anything: a pair two windows after its last failure (then
// it is forgiven), an address one window after its last attempt.
func (l *loginLimiter) update(ctx context.Context, account, addr string, change func(now time.Time, pair, ad *engine.LimitCount) bool) error {
	now := l.now()
	return l.store.UpdateLimitCounts(ctx, now, l.keys(account, addr), func(c []*engine.LimitCount) bool {
		pair, ad := c[0], c[1]
		ad.Attempts = slices.DeleteFunc(ad.Attempts, func(t time.Time) bool { return now.Sub(t) >= l.window })
		if !change(now, pair, ad) {
			return false
		}
		pair.Expires = time.Time{}
		if pair.Failures > 0 {
			pair.Expires = pair.Last.Add(2 * l.window)
		}
		ad.Expires = time.Time{}
		if n := len(ad.Attempts); n > 0 {
			ad.Expires = ad.Attempts[n-1].Add(l.window)
		}
		return true
	})
}

// delay is how long a pair with this many failures waits after its last.
func (l *loginLimiter) delay(failures int) time.Duration {
	if failures < l.free {
		return 0
	}
	return min(l.base<<min(failures-l.free, 20), l.window)
}

// begin counts an attempt on account from addr, or refuses it with how long
// to wait; a refusal changes no count.
func (l *loginLimiter) begin(ctx context.Context, account, addr string) (wait time.Duration, err error) {
	err = l.update(ctx, account, addr, func(now time.Time, pair, ad *engine.LimitCount) bool {
		wait = 0 // change runs again in the write transaction, and when the store retries
		if pair.Failures > 0 {
			if until := pair.Last.Add(l.delay(pair.Failures)); now.Before(until) {
				wait = until.Sub(now)
				return false
			}
		}
		if len(ad.Attempts) >= l.perAddr {
			wait = ad.Attempts[0].Add(l.window).Sub(now)
			return false
		}
		ad.Attempts = append(ad.Attempts, now)
		pair.Failures++
		pair.Last = now
		return true
	})
	return wait, err
}

// succeeded clears the pair and gives the address its attempt back.
func (l *loginLimiter) succeeded(ctx context.Context, account, addr string) error {
	return l.update(ctx, account, addr, func(_ time.Time, pair, ad *engine.LimitCount) bool {
		pair.Failures = 0
		popAttempt(ad)
		return true
	})
}

// refund takes back an attempt that never reached the password check.
func (l *loginLimiter) refund(ctx context.Context, account, addr string) error {
	return l.update(ctx, account, addr, func(_ time.Time, pair, ad *engine.LimitCount) bool {
		pair.Failures = max(pair.Failures-1, 0)
		popAttempt(ad)
		return true
	})
}

func popAttempt(ad *engine.LimitCount) {
	if n := len(ad.Attempts); n > 0 {
		ad.Attempts = ad.Attempts[:n-1]
	}
}

// hashGate bounds the password checks in flight. argon2id costs 64 MiB and
// a core for each check by design; unbounded, 32 concurrent failed sign-ins
// took the server to 2 GiB. slots checks run at once (one per core); up to
// queue more wait at most maxWait; beyond that the answer is 429 at once.
type hashGate struct {
	sem     *semaphore.Weighted
	waiting atomic.Int64
	queue   int64
	maxWait time.Duration
}

func newHashGate(slots int) *hashGate {
	return &hashGate{sem: semaphore.NewWeighted(int64(slots)), queue: 16 * int64(slots), maxWait: 10 * time.Second}
}

// enter waits for a slot; ok is false when the queue is full or the wait
// ran out. release must be called once the check is done.
func (g *hashGate) enter(ctx context.Context) (release func(), ok bool) {
	defer g.waiting.Add(-1)
	if g.waiting.Add(1) > g.queue {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, g.maxWait)
	defer cancel()
	if err := g.sem.Acquire(ctx, 1); err != nil {
		return nil, false
	}
	return func() { g.sem.Release(1) }, true
}
