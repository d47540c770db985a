package web

import (
	"embed"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"zonevet/rules/catalog"
)

//go:embed locales/*.json
var localeFS embed.FS

// Languages the UI speaks: zh (zh-CN, the default) and en.
const (
	langZH = catalog.ZH
	langEN = catalog.EN
)

// translator renders message ids for pages: the one catalogue
// (rules/catalog) plus the page wording in web/locales. Every capability
// keeps its wording in files of its own (locales/<area>.zh-CN.json beside
// locales/zh-CN.json), so parallel work never edits one shared file; all are
// loaded here, once, and a file that does not parse or pair fails start-up.
type translator struct {
	*catalog.Catalogue
}

func newTranslator() (*translator, error) {
	c, err := catalog.New(localeFS)
	if err != nil {
		return nil, fmt.Errorf("web: messages: %w", err)
	}
	return &translator{c}, nil
}

// lang is the request's UI language: the "lang" cookie if set, else zh-CN.
func (s *Server) lang(c echo.Context) string {
	if v, ok := c.Get(ctxLang).(string); ok {
		return v
	}
	lang := langZH
	if ck, err := c.Cookie("lang"); err == nil && ck.Value == langEN {
		lang = langEN
	}
	c.Set(ctxLang, lang)
	return lang
}

// t translates id for this request.
func (s *Server) t(c echo.Context, id string) string { return s.i18n.T(s.lang(c), id, nil) }

// handleLang switches the UI language and goes back where the user was. It
// changes a preference cookie only, no server state, so GET is fine.
func (s *Server) handleLang(c echo.Context) error {
	lang := c.Param("lang")
	if lang != langZH && lang != langEN {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	c.SetCookie(&http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
}

// safeNext keeps redirects on this site: only a same-origin path is
// accepted, anything else becomes "/". A browser drops tabs and newlines
// from a Location and reads a backslash as a slash, so "/\t/evil.example"
// and "/\\evil.example" are "//evil.example" to it: any control character
// or backslash is refused outright, and what is left must parse as a path
// with no scheme, host or user and must not begin with "//".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r == '\\' || unicode.IsControl(r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// formatAmount shows a number with thousands separators and at most
// decimals places, trailing zeros dropped: 12345.5 → "12,345.5".
func formatAmount(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg && s != "0" {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// formatFileSize shows a byte count as people read it: 45 B, 1.2 KB,
// 3.4 MB (binary units, one decimal above bytes); rounding it to whole
// kilobytes once showed a 45-byte file as "0 KB".
func formatFileSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n)/1024, "KB"
	for _, u := range []string{"MB", "GB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return formatAmount(v, 1) + " " + unit
}

// formatTime shows t in the zone's time zone (Asia/Shanghai).
func formatTime(t time.Time, loc *time.Location, withClock bool) string {
	if t.IsZero() {
		return "—"
	}
	if withClock {
		return t.In(loc).Format("2006-01-02 15:04")
	}
	return t.In(loc).Format("2006-01-02")
}
