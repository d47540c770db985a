package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
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
// bearer token; enforces idle and absolute timeouts and disabled accounts; and
// checks CSRF on every state-changing request that a cookie authenticates.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		now := s.svc.Now()
		if auth := req.Header.Get("Authorization"); isAPI(c) && auth != "" {
			secret, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				return engine.Errorf(engine.EUNAUTHORIZED, "Authorization 头应为 Bearer 令牌", "the Authorization header must be a Bearer token")
			}
			tok, err := s.accounts.APITokenByHash(ctx, hashToken(strings.TrimSpace(secret)))
			if err != nil || tok.Revoked {
				return engine.Errorf(engine.EUNAUTHORIZED, "API 令牌无效或已吊销", "the API token is invalid or revoked")
			}
			u, err := s.svc.Store().UserByID(ctx, tok.UserID)
			if err != nil || u.Disabled {
				return engine.Errorf(engine.EUNAUTHORIZED, "账号已停用", "account disabled")
			}
			if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > touchEvery {
				_ = s.accounts.TouchAPIToken(ctx, tok.ID, now)
			}
			c.Set(ctxUser, u)
			c.Set(ctxToken, tok)
			return next(c) // a bearer token is not sent by browsers on their own: no CSRF
		}
		if ck, err := c.Cookie(cookieSession); err == nil && ck.Value != "" {
			if sess, u := s.resumeSession(c, ck.Value, now); u != nil {
				c.Set(ctxUser, u)
				c.Set(ctxSession, sess)
			} else {
				s.clearSessionCookie(c)
			}
		}
		if unsafeMethod(req.Method) {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxUpload+maxFormOverhead)
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
	sess, err := s.accounts.Session(ctx, hashToken(secret))
	if err != nil {
		return nil, nil
	}
	if now.Sub(sess.LastSeenAt) > s.cfg.IdleTimeout || now.Sub(sess.CreatedAt) > s.cfg.AbsoluteTimeout {
		_ = s.accounts.DeleteSession(ctx, sess.ID)
		return nil, nil
	}
	u, err := s.svc.Store().UserByID(ctx, sess.UserID)
	if err != nil {
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
	if ck, err := c.Cookie(cookiePreCSRF); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	tok := randomToken()
	c.SetCookie(&http.Cookie{Name: cookiePreCSRF, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies})
	c.Request().AddCookie(&http.Cookie{Name: cookiePreCSRF, Value: tok}) // visible to later calls in this request
	return tok
}

func (s *Server) checkCSRF(c echo.Context) error {
	sent := c.Request().Header.Get(csrfHeader)
	if sent == "" {
		sent = c.FormValue(csrfFormField)
	}
	// Either the session's token or the pre-session double-submit cookie's:
	// a browser holding an old session may still post the sign-in form.
	var wants []string
	if sess := currentSession(c); sess != nil {
		wants = append(wants, sess.CSRFToken)
	}
	if ck, err := c.Cookie(cookiePreCSRF); err == nil && len(ck.Value) >= 32 {
		wants = append(wants, ck.Value)
	}
	ok := false
	for _, want := range wants {
		ok = ok || sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
	}
	if !ok {
		return engine.Errorf(engine.EFORBIDDEN, "表单已过期或来源不明,请刷新页面后重试", "the form has expired or did not come from this site; reload the page and try again")
	}
	return nil
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
			return engine.Errorf(engine.EUNAUTHORIZED, "请先登录", "please sign in")
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
		parks, err := s.svc.Store().Parks(c.Request().Context())
		if err != nil {
			return err
		}
		d.ParkNames = s.parkNames(parks, s.lang(c))
	}
	pd.Data = d
	return s.render(c, http.StatusOK, "login", pd)
}

// handleLogin signs a user in: rate limits per account and per address, a
// fresh session id on every sign-in (never reusing one the browser brought),
// and the same answer for an unknown name and a wrong password.
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
	if !s.limiter.allow("addr:"+c.RealIP(), 5*s.cfg.LoginLimit) || !s.limiter.allow("user:"+strings.ToLower(username), s.cfg.LoginLimit) {
		return fail(http.StatusTooManyRequests, s.t(c, "login.limited"))
	}
	u, err := s.svc.Authenticate(ctx, username, password)
	if err != nil {
		if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
			s.logLogin(c, false, username)
			return fail(http.StatusUnauthorized, engine.ErrorMessage(err, s.lang(c)))
		}
		return err
	}
	s.limiter.reset("user:" + strings.ToLower(username))
	if old := currentSession(c); old != nil {
		_ = s.accounts.DeleteSession(ctx, old.ID)
	}
	secret := randomToken()
	now := s.svc.Now()
	sess := &engine.Session{ID: hashToken(secret), UserID: u.ID, CSRFToken: randomToken(),
		CreatedAt: now, LastSeenAt: now, RemoteAddr: c.RealIP()}
	if err := s.accounts.CreateSession(ctx, sess); err != nil {
		return err
	}
	s.setSessionCookie(c, secret)
	s.logLogin(c, true, u.Username)
	return c.Redirect(http.StatusSeeOther, next)
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

// loginLimiter counts sign-in attempts per key in a sliding window. It lives
// in memory: one process serves the zone, and a restart forgetting the counts
// is harmless next to the argon2id cost of every attempt.
type loginLimiter struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	hits   map[string][]time.Time
}

func newLoginLimiter(window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records an attempt under key and reports whether it is within limit.
func (l *loginLimiter) allow(key string, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.hits) > 10000 {
		for k, ts := range l.hits {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.hits, k)
			}
		}
	}
	ts := l.hits[key]
	keep := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < l.window {
			keep = append(keep, t)
		}
	}
	if len(keep) >= limit {
		l.hits[key] = keep
		return false
	}
	l.hits[key] = append(keep, now)
	return true
}

// reset forgets an account's attempts after a successful sign-in.
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	delete(l.hits, key)
	l.mu.Unlock()
}
