// Package web is zonevet's user interface and JSON API on echo: server-rendered
// pages for the zone's staff, /api/v1 for other systems, sessions, CSRF, i18n
// and embedded static assets. It talks to engine only; persistence for
// sessions and tokens comes in as an engine.AccountStore.
package web

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"zonevet/engine"
)

// Config is everything the web layer needs, built by cmd.
type Config struct {
	Service  *engine.Service
	Accounts engine.AccountStore
	// DocsDir holds uploaded documents, outside any static path. Created if missing.
	DocsDir string
	Logger  *slog.Logger
	// SecureCookies marks cookies Secure; on for deployments behind TLS.
	SecureCookies bool
	// IdleTimeout ends a session unused this long (default 30 minutes);
	// AbsoluteTimeout ends any session this old (default 12 hours).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// MaxUpload caps one document's size in bytes (default 20 MiB).
	MaxUpload int64
	// LoginLimit is how many failed sign-ins one account may have from one
	// address before each further attempt waits a growing delay (capped at
	// LoginWindow), and a fifth of how many failed attempts one address may
	// make per LoginWindow (defaults 5 and 15 minutes).
	LoginLimit  int
	LoginWindow time.Duration
	// LoginConcurrency is how many password checks (argon2id, 64 MiB each)
	// run at once; default one per usable core (GOMAXPROCS).
	LoginConcurrency int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client. Empty (the default): the client is the socket's peer and the
	// header is ignored, for it is whatever the client wrote.
	TrustedProxies []*net.IPNet
	// CheckpointKey signs the decision log's checkpoints on demand (audit
	// pages); nil leaves the pages able to verify but not to sign.
	CheckpointKey crypto.Signer
	// Witnesses are the witness URLs serve pushes checkpoints to; the proof
	// page shows what each last cosigned.
	Witnesses []string
	// AuditPullRate and AuditPullBurst pace each API token's reads of the
	// decision log (requests per second, and how many may come at once;
	// defaults 5 and 40).
	AuditPullRate  float64
	AuditPullBurst int
	// AnonLogEvery paces the access-log lines of refused anonymous requests
	// (one per AnonLogEvery after a burst of 10; default a second), so a
	// flood of them cannot fill the disk.
	AnonLogEvery time.Duration
	// TokenMaxDays is the longest life an API token may be given (default
	// engine.MaxTokenDays); new tokens live engine.DefaultTokenDays unless
	// their maker chooses less, or more up to this.
	TokenMaxDays int
	// Demo lists the demo accounts on the sign-in page, so a newcomer can
	// click through at once; nil (any real deployment) shows none.
	Demo *DemoLogins
}

// DemoLogins are the demo database's accounts and their shared password.
type DemoLogins struct {
	Password string
	Accounts []DemoAccount
}

// DemoAccount is one demo account as the sign-in page lists it.
type DemoAccount struct {
	Username, DisplayName string
	Roles                 []engine.RoleAssignment
}

// Server is the web application: an echo instance with every route registered.
type Server struct {
	cfg      Config
	svc      *engine.Service
	accounts engine.AccountStore
	log      *slog.Logger
	echo     *echo.Echo
	tmpl     *templates
	static   *staticFiles
	i18n     *translator
	limiter  *loginLimiter
	hashGate *hashGate
	// accessLog paces the access-log lines about refused anonymous
	// requests: they are not the decision log's business, and a flood of
	// them must not flood the operator's log either. Per process, in
	// memory, unlike the shared limits: it guards this process's own log.
	accessLog  *rate.Limiter
	suppressed atomic.Int64
	loc        *time.Location
	pulls      *pullLimiter
}

// New checks the configuration, parses every template (failing fast on a
// broken one) and registers the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.Accounts == nil {
		return nil, errors.New("web: Service and Accounts are required")
	}
	if cfg.DocsDir == "" {
		return nil, errors.New("web: DocsDir is required")
	}
	if err := os.MkdirAll(cfg.DocsDir, 0o750); err != nil {
		return nil, fmt.Errorf("web: documents folder: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 20 << 20
	}
	if cfg.LoginLimit == 0 {
		cfg.LoginLimit = 5
	}
	if cfg.LoginWindow == 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	s := &Server{cfg: cfg, svc: cfg.Service, accounts: cfg.Accounts, log: cfg.Logger, loc: cfg.Service.Location()}
	var err error
	if s.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if s.i18n, err = newTranslator(); err != nil {
		return nil, err
	}
	if s.tmpl, err = parseTemplates(s.funcs()); err != nil {
		return nil, err
	}
	if cfg.LoginConcurrency <= 0 {
		cfg.LoginConcurrency = runtime.GOMAXPROCS(0)
	}
	s.limiter = newLoginLimiter(cfg.Accounts, cfg.LoginLimit, cfg.LoginWindow, cfg.Service.Now)
	s.hashGate = newHashGate(cfg.LoginConcurrency)
	if cfg.AnonLogEvery <= 0 {
		cfg.AnonLogEvery = time.Second
	}
	s.accessLog = rate.NewLimiter(rate.Every(cfg.AnonLogEvery), 10)
	if cfg.AuditPullRate <= 0 {
		cfg.AuditPullRate, cfg.AuditPullBurst = 5, 40
	}
	s.pulls = newPullLimiter(cfg.Accounts, cfg.AuditPullRate, max(cfg.AuditPullBurst, 1))
	s.echo = echo.New()
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

// ipExtractor takes the client address from the socket, or with trusted
// proxies from X-Forwarded-For, read from the right and skipping only those
// proxies. echo trusts loopback and private networks by default; here only
// what the operator named is trusted.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads a comma-separated list of CIDRs or single
// addresses ("10.0.0.0/8,192.0.2.7") for Config.TrustedProxies.
func ParseTrustedProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo exposes the router, for tests that walk the registered routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// handleHealth answers a load balancer or a monitor: ok only if the
// database answers a read within two seconds, so that a server whose disk
// has gone away is taken out of rotation rather than failing every page.
func (s *Server) handleHealth(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		s.log.Error("health check: database read failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ok")
}

// routes registers every route. Each one must have a row in the permission
// matrix test (web/permissions_test.go); a route without one fails it.
func (s *Server) routes() {
	e := s.echo
	e.Use(s.recoverPanics, s.securityHeaders, s.downloadToken, s.loadSession, s.formOnce)

	e.GET("/static/:file", s.handleStatic)
	e.GET("/healthz", s.handleHealth)
	e.GET("/lang/:lang", s.handleLang)

	s.registerAuthRoutes(e)
	s.registerProjectRoutes(e)
	s.registerTokenRoutes(e)
	s.registerTrackingRoutes(e)
	s.registerAPIRoutes(e.Group("/api/v1"))
	s.registerAuditRoutes(e)
	s.registerAdminRoutes(e)
	s.registerRulesAdminRoutes(e)
	s.registerCalendarRoutes(e)
	s.registerExpertRoutes(e)
	s.registerMeetingRoutes(e)
	s.registerDelegationRoutes(e)
	s.registerInboxRoutes(e)
	s.registerShareRoutes(e)
}

// statusOf is the one table from engine error codes to HTTP statuses.
var statusOf = map[string]int{
	engine.EINVALID:      http.StatusBadRequest,
	engine.EUNAUTHORIZED: http.StatusUnauthorized,
	engine.EFORBIDDEN:    http.StatusForbidden,
	engine.ENOTFOUND:     http.StatusNotFound,
	engine.ECONFLICT:     http.StatusConflict,
	engine.EINTERNAL:     http.StatusInternalServerError,
}

// codeOfStatus maps echo's own errors (404 route, 405, 413 …) back to a code
// for the JSON body.
func codeOfStatus(status int) string {
	switch {
	case status == http.StatusNotFound:
		return engine.ENOTFOUND
	case status == http.StatusUnauthorized:
		return engine.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return engine.EFORBIDDEN
	case status == http.StatusConflict:
		return engine.ECONFLICT
	case status >= 400 && status < 500:
		return engine.EINVALID
	}
	return engine.EINTERNAL
}

// apiError is the JSON body of every API error.
type apiError struct {
	Code    string   `json:"code"`
	Field   string   `json:"field,omitempty"`
	Fields  []string `json:"fields,omitempty"` // every field at fault, when several are (an incomplete project)
	Message string   `json:"message"`
}

// classify turns any error into status, code and user-safe message. Internal
// errors are logged in full and shown as "internal error".
func (s *Server) classify(c echo.Context, err error) (int, apiError) {
	lang := s.lang(c)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		// echo's own errors (a route that does not exist, a method not
		// allowed) carry the English status text: show the catalogue's.
		msg := s.i18n.T(lang, fmt.Sprintf("http.status_%d", he.Code), nil)
		if m, ok := he.Message.(string); ok && m != http.StatusText(he.Code) {
			msg = m
		} else if !s.i18n.Has(fmt.Sprintf("http.status_%d", he.Code)) {
			msg = s.i18n.T(lang, "http.status_other", nil)
		}
		if he.Code >= 500 {
			s.log.Error("http error", "path", c.Path(), "err", err)
			msg = engine.ErrorMessage(errors.New("internal"), lang)
		}
		return he.Code, apiError{Code: codeOfStatus(he.Code), Message: msg}
	}
	code := engine.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	var de *engine.Error
	field, fields := "", []string(nil)
	if errors.As(err, &de) {
		field, fields = de.Field, de.Fields
	}
	return status, apiError{Code: code, Field: field, Fields: fields, Message: engine.ErrorMessage(err, lang)}
}

// handleError is echo's HTTPErrorHandler: JSON for the API, a page otherwise;
// a browser that is not signed in is sent to the sign-in page.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.classify(c, err)
	s.logRefusal(c, status, body.Message)
	if isAPI(c) {
		_ = c.JSON(status, body)
		return
	}
	if status == http.StatusUnauthorized && c.Request().Method == http.MethodGet {
		_ = c.Redirect(http.StatusSeeOther, "/login?next="+urlQueryEscape(c.Request().URL.RequestURI()))
		return
	}
	pd := s.page(c, s.t(c, "error.title"))
	pd.Data = map[string]any{"Status": status, "Message": body.Message, "Code": body.Code}
	if rerr := s.render(c, status, "error", pd); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(status, body.Message)
	}
}

func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// recoverPanics turns a panic into a logged internal error instead of a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic", "path", c.Request().URL.Path, "panic", r)
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// cookieDownload is the cookie a download's answer sets to the token its
// link carried (?dl=, app.js), as its headers go out: the page polls for it
// and gives the export button back once the file is on its way. A known
// pattern for downloads, which fire no event a page can wait on.
const cookieDownload = "zonevet_dl"

// downloadToken sets cookieDownload on the answer to a GET that carries a
// download token, whatever the answer (an error ends the wait too).
func (s *Server) downloadToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := c.QueryParam("dl")
		if c.Request().Method == http.MethodGet && downloadTokenRE.MatchString(tok) {
			res := c.Response()
			res.Before(func() {
				http.SetCookie(res, &http.Cookie{Name: cookieDownload, Value: tok, Path: "/", MaxAge: 120,
					SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookies})
			})
		}
		return next(c)
	}
}

// downloadTokenRE is what app.js makes: a short random word.
var downloadTokenRE = regexp.MustCompile(`^[a-z0-9]{8,40}$`)

// securityHeaders sets a strict CSP (every script and style is ours and
// same-origin) and the usual hardening headers.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}
