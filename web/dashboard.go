package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/rules/catalog"
)

type dashboardData struct {
	D        *engine.Dashboard
	Title    string
	Charts   template.JS // the charts' data as JSON, read by dashboard.js from a data block
	Export   string
	ParkName map[string]string
	Total    int // projects in scope
	Tracked  int // of which signed or later
}

// chartData is what dashboard.js draws; labels are already in the page's language.
type chartData struct {
	States      []labelled `json:"states"`
	Bands       []labelled `json:"bands"`
	TaxPerMu    []labelled `json:"tax_per_mu"`
	OutputPerMu []labelled `json:"output_per_mu"`
	Text        map[string]string
}

type labelled struct {
	Label string `json:"label"`
	Value int    `json:"value"`
}

func (s *Server) dashboard(c echo.Context) (*engine.Dashboard, error) {
	year, _ := strconv.Atoi(c.QueryParam("year"))
	return s.svc.Dashboard(c.Request().Context(), currentUser(c), c.QueryParam("park"), year)
}

func (s *Server) dashboardTitle(c echo.Context, d *engine.Dashboard) string {
	lang := s.lang(c)
	name := s.i18n.T(lang, "page.dashboard.whole_zone", nil)
	for _, p := range d.Parks {
		if p.ID == d.Park {
			name = pickLang(lang, p.NameZH, p.NameEN)
		}
	}
	// No year in the heading: the figures are of d.Year (the last reported),
	// the signing cards of this year; the note under it says which is which.
	return s.i18n.T(lang, "page.dashboard.heading", catalog.Args{"Name": name})
}

func (s *Server) handleDashboard(c echo.Context) error {
	d, err := s.dashboard(c)
	if err != nil {
		return err
	}
	lang := s.lang(c)
	cd := chartData{Text: map[string]string{
		"states": s.i18n.T(lang, "page.dashboard.states", nil), "bands": s.i18n.T(lang, "page.dashboard.bands", nil),
		"tax": s.i18n.T(lang, "page.dashboard.tax", nil), "output": s.i18n.T(lang, "page.dashboard.output", nil),
		"save": s.i18n.T(lang, "page.dashboard.save", nil), "firms": s.i18n.T(lang, "page.dashboard.firms", nil),
		"projects":   s.i18n.T(lang, "page.dashboard.axis_projects", nil),
		"no_ratings": s.i18n.T(lang, "page.dashboard.no_ratings", nil),
	}}
	for _, st := range engine.States {
		if n := d.States[st]; n > 0 {
			cd.States = append(cd.States, labelled{engine.StateLabel(st, lang), n})
		}
	}
	for _, b := range rules.BandNames { // the only names a rule set may give its bands
		cd.Bands = append(cd.Bands, labelled{b, d.Bands[b]})
	}
	if t := rules.NotRatedClassName; d.Bands[t] > 0 {
		cd.Bands = append(cd.Bands, labelled{s.i18n.T(lang, "page.dashboard.not_rated", catalog.Args{"Class": t}), d.Bands[t]})
	}
	if n := d.Bands["grace"]; n > 0 {
		cd.Bands = append(cd.Bands, labelled{s.i18n.T(lang, "page.dashboard.grace", nil), n})
	}
	for _, b := range d.TaxPerMu {
		cd.TaxPerMu = append(cd.TaxPerMu, labelled{b.Label, b.Count})
	}
	for _, b := range d.OutputPerMu {
		cd.OutputPerMu = append(cd.OutputPerMu, labelled{b.Label, b.Count})
	}
	js, err := json.Marshal(cd)
	if err != nil {
		return err
	}
	title := s.dashboardTitle(c, d)
	dd := dashboardData{D: d, Title: title, Charts: template.JS(js), ParkName: map[string]string{},
		Export: fmt.Sprintf("/dashboard.xlsx?park=%s&year=%d", d.Park, d.Year)}
	for _, p := range d.Parks {
		dd.ParkName[p.ID] = pickLang(lang, p.NameZH, p.NameEN)
	}
	for _, ps := range d.PerPark {
		dd.Total, dd.Tracked = dd.Total+ps.Projects, dd.Tracked+ps.Tracked
	}
	pd := s.page(c, title)
	pd.Data = dd
	return s.render(c, http.StatusOK, "dashboard", pd)
}

func (s *Server) handleDashboardExport(c echo.Context) error {
	d, err := s.dashboard(c)
	if err != nil {
		return err
	}
	b, err := dashboardWorkbook(d, s.dashboardTitle(c, d))
	if err != nil {
		return err
	}
	park := d.Park
	if park == "" {
		park = "zone"
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="dashboard-%s-%d.xlsx"`, park, d.Year))
	return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b)
}
