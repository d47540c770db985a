package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates are parsed once at start-up: the layout plus one file per page.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates(funcs template.FuncMap) (*templates, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		clone, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t.pages[name], err = clone.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
	}
	return t, nil
}

// staticFiles are the embedded assets, each served at /static/<name>.<hash>.<ext>
// so browsers may cache them forever and a new release is fetched at once.
type staticFiles struct {
	byURL  map[string]staticFile // "htmx.min.3f2a…​.js" → file
	urlFor map[string]string     // "htmx.min.js" → "/static/htmx.min.3f2a….js"
}

type staticFile struct {
	body  []byte
	ctype string
}

func loadStatic() (*staticFiles, error) {
	sf := &staticFiles{byURL: map[string]staticFile{}, urlFor: map[string]string{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		hashed := strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		sf.byURL[hashed] = staticFile{body: body, ctype: ctype}
		sf.urlFor[e.Name()] = "/static/" + hashed
	}
	return sf, nil
}

func (s *Server) handleStatic(c echo.Context) error {
	f, ok := s.static.byURL[c.Param("file")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, f.ctype, f.body)
}

// page is the data every page gets, built in one place (s.page); the
// page's own data goes in Data.
type page struct {
	Title   string
	Lang    string
	User    *engine.User
	CSRF    string
	Path    string
	Flash   string
	FlashOK bool
	Data    any
	s       *Server
	people  map[string]string // login → display name, read on first use (Person)
}

// Person names a login by its holder's display name (王评审, not
// reviewer1), the login itself if there is none.
func (p *page) Person(login string) string {
	if p.people == nil {
		p.people, _ = p.s.svc.DisplayNames(context.Background())
		if p.people == nil {
			p.people = map[string]string{}
		}
	}
	if n := p.people[login]; n != "" {
		return n
	}
	return login
}

// T translates a message id in the page's language.
func (p *page) T(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 1 {
		data = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return p.s.i18n.T(p.Lang, id, data)
}

// EN reports whether the page is in English (for picking bilingual fields).
func (p *page) EN() bool { return p.Lang == langEN }

// page builds the common page data for this request.
func (s *Server) page(c echo.Context, title string) *page {
	pd := &page{Title: title, Lang: s.lang(c), User: currentUser(c), CSRF: s.csrfToken(c), Path: c.Request().URL.RequestURI(), s: s}
	if ck, err := c.Cookie("zv_flash"); err == nil && ck.Value != "" {
		if v, err := decodeFlash(ck.Value); err == nil {
			pd.FlashOK, pd.Flash = v.ok, v.msg
		}
		c.SetCookie(&http.Cookie{Name: "zv_flash", Path: "/", MaxAge: -1, HttpOnly: true})
	}
	return pd
}

type flashMsg struct {
	ok  bool
	msg string
}

func decodeFlash(v string) (flashMsg, error) {
	raw, err := hexDecode(v)
	if err != nil {
		return flashMsg{}, err
	}
	kind, msg, _ := strings.Cut(raw, ":")
	return flashMsg{ok: kind == "ok", msg: msg}, nil
}

func hexDecode(v string) (string, error) {
	b, err := hex.DecodeString(v)
	return string(b), err
}

// flash leaves a one-time message for the next page (after a redirect).
func (s *Server) flash(c echo.Context, ok bool, msg string) {
	kind := "err"
	if ok {
		kind = "ok"
	}
	c.SetCookie(&http.Cookie{Name: "zv_flash", Value: hex.EncodeToString([]byte(kind + ":" + msg)), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (s *Server) render(c echo.Context, status int, name string, pd *page) error {
	t, ok := s.tmpl.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pd); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// stateClass gives each state one badge colour used everywhere: grey for not
// yet / no longer in play, blue for under review, amber when the promoter
// must act, green for a go, red for a no, orange for rectification.
func stateClass(st engine.State) string {
	switch st {
	case engine.StateDraft, engine.StateWithdrawn:
		return "badge-muted"
	case engine.StateScreening, engine.StateExpertReview, engine.StateCommitteeReview:
		return "badge-review"
	case engine.StateReturned:
		return "badge-attention"
	case engine.StateApproved, engine.StateSigned, engine.StateUnderConstruction, engine.StateInProduction:
		return "badge-go"
	case engine.StateRejected, engine.StateExited:
		return "badge-stop"
	case engine.StateRectification:
		return "badge-warn"
	}
	return "badge-muted"
}

// funcs are the template functions; those that depend on the language take
// it as the first argument, so templates stay parsed once.
func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := s.static.urlFor[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return u, nil
		},
		"formkey":  randomToken, // a fresh form_key per rendered form (form_once.go)
		"amount":   func(v float64) string { return formatAmount(v, 2) },
		"number":   func(v float64, d int) string { return formatAmount(v, d) },
		"filesize": formatFileSize,
		"date":     func(t time.Time) string { return formatTime(t, s.loc, false) },
		// A deadline is the end (midnight) of its last day: shown as that day.
		"dueDay": func(t *time.Time) string {
			if t == nil {
				return "—"
			}
			return formatTime(t.Add(-time.Nanosecond), s.loc, false)
		},
		"datetime":     func(t time.Time) string { return formatTime(t, s.loc, true) },
		"stateLabel":   func(lang string, st engine.State) string { return engine.StateLabel(st, lang) },
		"rsstate":      func(lang string, st engine.RuleSetState) string { return engine.RuleSetStateLabel(st, lang) },
		"stateClass":   stateClass,
		"eventLabel":   func(lang, ev string) string { return engine.EventLabel(ev, lang) },
		"reviewMetric": func(lang, m string) string { return engine.ReviewMetricLabel(m, lang) },
		"roleLabel":    func(lang string, r engine.Role) string { return engine.RoleLabel(r, lang) },
		"fieldLabel":   func(f, lang string) string { return s.fieldName(f, lang) }, // a form or sheet field in lang (tracking.go)
		// A yes/no check (a veto declaration, the negative-list industry)
		// stores 0/1 against "= 0"; people read 是/否.
		"flagCheck": func(c any) bool { return flagCheck(c) },
		"yesNo": func(lang string, v float64) string {
			if v != 0 {
				return s.i18n.T(lang, "label.yes", nil)
			}
			return s.i18n.T(lang, "label.no", nil)
		},
		// threshold shows a check's threshold from the report of rule-set
		// version rsv; a requires check's stored form is Chinese text, so
		// English reads it from that version.
		"threshold": func(lang, rsv string, c any) string {
			if flagCheck(c) {
				return s.i18n.T(lang, "label.no", nil)
			}
			if lang == langEN {
				if rs, err := s.svc.RuleSetVersion(context.Background(), rsv); err == nil {
					if en := rs.ThresholdEN(checkOf(c).ID); en != "" {
						return en
					}
				}
			}
			return checkOf(c).Threshold
		},
		// actor names who wrote a log entry; the server's operator (accounts
		// made on the command line) has no login to show.
		"actor": func(lang, actor string) string {
			switch actor {
			case engine.OperatorActor:
				return s.i18n.T(lang, "actor.operator", nil)
			case engine.SystemActor:
				return s.i18n.T(lang, "actor.system", nil)
			}
			return actor
		},
		"pick": func(lang, zh, en string) string {
			if lang == langEN && en != "" {
				return en
			}
			return zh
		},
		"overdue": func(t *time.Time) bool { return t != nil && t.Before(s.svc.Now()) },
		// provisional: a working-day deadline in a year whose holidays are not published (暂定).
		"provisional": func(t *time.Time, st any) bool {
			state, _ := st.(engine.State)
			return s.svc.DueProvisional(context.Background(), state, t)
		},
		"tr": func(lang any, id string) string {
			l, _ := lang.(string)
			return s.i18n.T(l, id, nil)
		},
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
		"add":     func(a, b int) int { return a + b },
		"primary": func(ev string) bool { return primaryEvents[ev] },
		"list":    func(xs ...string) []string { return xs },
		"fmtFigure": func(v any) string {
			switch x := v.(type) {
			case float64:
				return formatAmount(x, 2)
			case int:
				return formatAmount(float64(x), 0)
			}
			return fmt.Sprint(v)
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"has": func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		},
	}
}

func checkOf(c any) rules.CheckResult {
	switch x := c.(type) {
	case rules.CheckResult:
		return x
	case *rules.CheckResult:
		return *x
	}
	return rules.CheckResult{}
}

// flagCheck tells a yes/no check: the vetoes, whose threshold is "= 0".
func flagCheck(c any) bool {
	r := checkOf(c)
	return r.Threshold == "= 0"
}
