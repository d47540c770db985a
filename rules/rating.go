package rules

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"zonevet/rules/catalog"

	"github.com/expr-lang/expr/vm"
)

// FirmYear is one firm's figures for one year of the annual per-mu rating.
// Money is in 万元, land in 亩, energy in tce, emissions in tonnes.
type FirmYear struct {
	ProjectID  int64   `json:"project_id"`
	Name       string  `json:"name"`
	LandArea   float64 `json:"land_area"`
	Output     float64 `json:"output"`
	ValueAdded float64 `json:"value_added"`
	Tax        float64 `json:"tax"`
	RDExpense  float64 `json:"rd_expense"`
	Revenue    float64 `json:"revenue"`
	EnergyUse  float64 `json:"energy_use"`
	Emissions  float64 `json:"emissions"`
	Employees  int     `json:"employees"`
	// InGrace marks a firm still within the grace period after its land
	// grant (RatingConfig.GraceYears); the engine decides it from dates.
	InGrace bool `json:"in_grace"`
	// NotFiled marks a firm that filed no annual figures for the year: its
	// figures are zero and it gets the rule set's not_filed class.
	NotFiled bool `json:"not_filed,omitempty"`
	// BelowScale marks a firm below designated size (规下), rated by the
	// rule set's below_scale method when it has one.
	BelowScale bool `json:"below_scale,omitempty"`
	// Electricity is the year's electricity use in 万千瓦时 (10,000 kWh), so
	// tax (万元) ÷ electricity is tax per kWh in 元.
	Electricity float64 `json:"electricity,omitempty"`
}

// IndicatorScore is one indicator of one firm's rating.
type IndicatorScore struct {
	ID     string  `json:"id"`
	Value  float64 `json:"value"`  // the indicator's value, 0 when it cannot be computed
	Points float64 `json:"points"` // rounded to 0.01
	Valid  bool    `json:"valid"`  // false when the value could not be computed (e.g. no output to divide by)
	Capped bool    `json:"capped"` // the points hit the cap
	// Missing is the rule set's missing-data policy that gave the points
	// (average, zero, not_rated) when the firm had no data for the indicator.
	Missing string `json:"missing,omitempty"`
}

// Why a firm that is not in grace is not rated (Rating.NotRated).
const (
	NotRatedNotFiled    = "not_filed"    // no annual figures for the year
	NotRatedMissingData = "missing_data" // an indicator whose missing policy is not_rated has no data
)

// Rating is one firm's result in the annual per-mu rating.
type Rating struct {
	ProjectID  int64            `json:"project_id"`
	Name       string           `json:"name"`
	Indicators []IndicatorScore `json:"indicators"` // in the rule set's order
	Total      float64          `json:"total"`      // sum of points, rounded to 0.01
	Rank       int              `json:"rank"`       // 1 is best; equal totals share a rank; 0 when not rated
	Band       string           `json:"band"`       // "A".."D"; the grace band, the not-rated class or the not-filed class for firms not rated
	Rated      bool             `json:"rated"`      // false within the grace period, and for the firms NotRated names
	Floor      bool             `json:"floor"`      // put in the floor band by the tax floor, regardless of rank
	ReasonsZH  []string         `json:"reasons_zh"`
	ReasonsEN  []string         `json:"reasons_en"`
	// NotRated says why a firm outside its grace period is not rated
	// (not_filed, missing_data); "" for rated firms and firms in grace.
	NotRated string `json:"not_rated,omitempty"`
	// RDSupport flags a firm whose R&D intensity reaches the rule set's
	// rd_support.at_least (对研发投入高的企业予以倾斜支持).
	RDSupport bool `json:"rd_support,omitempty"`
	// Group is "below_scale" for a firm rated by the below-scale method
	// (ranked among those firms only), "" otherwise.
	Group string `json:"group,omitempty"`
}

// Rate runs the annual per-mu rating over all firms of the park for one year.
// It is pure: firms' figures in, ratings out.
//
// Points: an indicator scores value ÷ benchmark × weight, or benchmark ÷
// value × weight when lower is better (a value of 0 then earns the cap),
// never below 0 nor above cap × weight, rounded to 0.01.
//
// Missing data: an indicator with a missing policy has no data when one of
// its data figures is 0 (not reported) or its value cannot be computed; it
// then scores 0 (zero), the average of its points among the rated firms
// that have the data, rounded to 0.01 (average; 0 when none has), or puts
// the firm in the not-rated class (not_rated); the reasons say which. An
// indicator without a policy that cannot be computed scores 0. Total is the
// sum of the rounded points, rounded to 0.01, so totals that print alike
// compare alike.
//
// Not rated: firms in grace (the grace band), firms that filed nothing
// (NotFiled: the rule set's not_filed class or band) and firms put in the
// not-rated class by missing data. They have no rank and do not count in n.
//
// Rank: rated firms are ordered by Total, highest first, ties by ProjectID
// ascending; rank is "competition" rank: 1 + the number of rated firms with
// a strictly higher Total, so equal totals share a rank (1, 2, 2, 4).
//
// Band: by rank r among n rated firms, under the rule set's rounding
// convention (see bandIndex and BandConvention); tied firms share the band of
// their shared rank, so a tie across a boundary gets the better band. The
// floor then overrides: a firm whose floor indicator is below the floor (or
// cannot be computed) gets the floor band whatever its rank, keeping its rank
// for the record.
//
// Order: rated firms by (Rank, ProjectID), then the others by ProjectID.
// Bad input (duplicate ProjectID, no land, negative or non-finite figures)
// is an *InputError naming the firm and field.
func (rs *RuleSet) Rate(firms []FirmYear) ([]Rating, error) {
	if err := rs.checkFirms(firms); err != nil {
		return nil, err
	}
	if rs.below == nil {
		return rs.rateGroup(firms, rs.main)
	}
	var above, below []FirmYear
	for _, f := range firms {
		if f.BelowScale {
			below = append(below, f)
		} else {
			above = append(above, f)
		}
	}
	a, err := rs.rateGroup(above, rs.main)
	if err != nil {
		return nil, err
	}
	b, err := rs.rateGroup(below, rs.below)
	if err != nil {
		return nil, err
	}
	// Above-scale firms by rank, then below-scale firms by rank, then the
	// firms not rated of both groups by id.
	out := make([]Rating, 0, len(firms))
	var unrated []Rating
	for _, g := range [][]Rating{a, b} {
		for _, r := range g {
			if r.Rated {
				out = append(out, r)
			} else {
				unrated = append(unrated, r)
			}
		}
	}
	slices.SortStableFunc(unrated, func(x, y Rating) int { return cmp.Compare(x.ProjectID, y.ProjectID) })
	return append(out, unrated...), nil
}

// GroupBelowScale marks the ratings of firms rated by the below-scale method.
const GroupBelowScale = "below_scale"

// ratingMethod is one set of indicators with what scoring it needs
// prepared: the main method, or the below-scale one.
type ratingMethod struct {
	inds     []Indicator
	compiled []*formula
	capTexts []frame // the "capped" reasons, per indicator; hole: the value
	floorIdx int     // the floor indicator in inds, -1 when the method has none
	group    string  // "" for the main method
}

// rateGroup rates and ranks one group of firms by one method.
func (rs *RuleSet) rateGroup(firms []FirmYear, m *ratingMethod) ([]Rating, error) {
	cfg := &rs.spec.Rating
	term := rs.classTerm()
	w := rs.reasonFrames(m, term)
	out := make([]Rating, len(firms))
	scores := make([]IndicatorScore, len(firms)*len(m.inds))
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	env := new(firmEnv)
	for i := range firms {
		f := &firms[i]
		r := &out[i]
		r.ProjectID, r.Name, r.Rated, r.Group = f.ProjectID, f.Name, !f.InGrace && !f.NotFiled, m.group
		r.Indicators = scores[i*len(m.inds) : (i+1)*len(m.inds) : (i+1)*len(m.inds)]
		r.ReasonsZH, r.ReasonsEN = make([]string, 0, 2), make([]string, 0, 2)
		if f.NotFiled {
			// A firm in grace is not rated whether it filed or not.
			if !f.InGrace {
				r.NotRated = NotRatedNotFiled
			}
			for j := range m.inds {
				r.Indicators[j] = IndicatorScore{ID: m.inds[j].ID}
			}
			continue
		}
		env.set(f)
		for j := range m.inds {
			s, err := rs.score(machine, env, m, j, r)
			if err != nil {
				return nil, err
			}
			r.Indicators[j] = s
			if s.Missing == MissingNotRated && r.Rated {
				r.Rated, r.NotRated = false, NotRatedMissingData
			}
		}
		if sup := cfg.RDSupport; sup != nil && f.Revenue > 0 {
			if rd := round(f.RDExpense/f.Revenue*100, 2); rd >= sup.AtLeast {
				r.RDSupport = true
				r.reason(w.rdSupport.texts(fmt2(rd)))
			}
		}
	}
	rs.fillAverages(out, m)
	for i := range out {
		total := 0.0
		for _, s := range out[i].Indicators {
			total += s.Points
		}
		out[i].Total = round(total, 2)
	}

	// Sort: rated first by total then id; unrated after, by id.
	slices.SortFunc(out, func(a, b Rating) int {
		switch {
		case a.Rated != b.Rated:
			if a.Rated {
				return -1
			}
			return 1
		case a.Rated && a.Total != b.Total:
			if a.Total > b.Total {
				return -1
			}
			return 1
		case a.ProjectID < b.ProjectID:
			return -1
		case a.ProjectID > b.ProjectID:
			return 1
		}
		return 0
	})
	n := 0
	for n < len(out) && out[n].Rated {
		n++
	}
	cuts := rs.bandCuts(n)
	for i := range out {
		r := &out[i]
		switch {
		case r.NotRated == NotRatedNotFiled:
			r.Band = cfg.NotFiled
			r.reason(w.notFiled.texts())
			continue
		case r.NotRated == NotRatedMissingData:
			r.Band = cfg.NotRatedClass
			continue
		case !r.Rated:
			r.Band = cfg.GraceBand
			r.reason(w.grace.texts())
			continue
		}
		if i > 0 && out[i-1].Total == r.Total {
			r.Rank = out[i-1].Rank
		} else {
			r.Rank = i + 1
		}
		r.Band = cfg.Bands[rs.bandIndex(r.Rank, n, cuts)].Band
		r.reason(w.score.texts(fmt2(r.Total), strconv.Itoa(r.Rank), strconv.Itoa(n), r.Band))
		if m.floorIdx >= 0 {
			s := r.Indicators[m.floorIdx]
			if !s.Valid || opLT.holds(s.Value, cfg.Floor.Below) {
				r.Floor, r.Band = true, cfg.Floor.Band
				r.reason(w.floor.texts(fmt2(s.Value)))
			}
		}
	}
	return out, nil
}

// classTerm is the word for a band: "类" as the policy writes it (A/B/C/D
// 类), except under the first convention (no band_rounding), whose stored
// runs said "档" and must recompute byte for byte.
func (rs *RuleSet) classTerm() catalog.Message {
	if rs.spec.Rating.BandRounding == "" {
		return catalog.Message{ID: "reason.term.band"}
	}
	return catalog.Message{ID: "reason.term.class"}
}

// rdTerm is R&D intensity in a rating reason: 研发经费投入强度 as the policy
// writes it, except in rule sets from before the terms were aligned with the
// policy (those without a targets: section, added at the same time), whose
// stored runs said 研发投入强度 and must recompute byte for byte.
func (rs *RuleSet) rdTerm() catalog.Message {
	if rs.spec.Targets == nil {
		return catalog.Message{ID: "reason.rd_term_old"}
	}
	return catalog.Message{ID: "reason.rd_term"}
}

// reasonFrames are the reasons every firm of a group may be given, rendered
// once per Rate with holes for the firm's numbers (frame): rendering them per
// firm would dominate a rating of thousands of firms.
type reasonFrames struct {
	rdSupport frame // hole: the intensity
	notFiled  frame
	grace     frame
	score     frame // holes: total, rank, count, band
	floor     frame // hole: the floor indicator's value
}

func (rs *RuleSet) reasonFrames(m *ratingMethod, term catalog.Message) reasonFrames {
	cfg := &rs.spec.Rating
	var w reasonFrames
	if sup := cfg.RDSupport; sup != nil {
		w.rdSupport = newFrame("reason.rd_support", catalog.Args{"Term": rs.rdTerm(), "Value": hole(0),
			"Mark": fmtNum(sup.AtLeast), "Measure": bothText(sup.MeasureZH, sup.MeasureEN)})
	}
	notFiled := "reason.not_filed"
	if cfg.NotFiled == cfg.NotRatedClass {
		notFiled = "reason.not_filed_not_rated"
	}
	w.notFiled = newFrame(notFiled, catalog.Args{"Band": cfg.NotFiled})
	w.grace = newFrame("reason.grace", catalog.Args{"Years": cfg.GraceYears, "Band": cfg.GraceBand, "Term": term})
	score := "reason.score"
	if m.group == GroupBelowScale {
		score = "reason.score_below_scale"
	}
	w.score = newFrame(score, catalog.Args{"Total": hole(0), "Rank": hole(1), "Count": hole(2), "Band": hole(3), "Term": term})
	if m.floorIdx >= 0 {
		ind := &m.inds[m.floorIdx]
		unit := bothText(withUnit("", ind.Unit), withUnit("", unitENOf(ind)))
		w.floor = newFrame("reason.floor", catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Value": hole(0), "Unit": unit,
			"Floor": bothText(withUnit(fmtNum(cfg.Floor.Below), ind.Unit), withUnit(fmtNum(cfg.Floor.Below), unitENOf(ind))),
			"Band":  cfg.Floor.Band, "Term": term})
	}
	return w
}

// reason adds a reason in both languages.
func (r *Rating) reason(zh, en string) {
	r.ReasonsZH, r.ReasonsEN = append(r.ReasonsZH, zh), append(r.ReasonsEN, en)
}

// bandCuts is what bandIndex needs for n rated firms under half_up: the
// cumulative count of each band counted from the top, and last the count of
// a band counted from the bottom (0 without one). Under ceil it is nil.
func (rs *RuleSet) bandCuts(n int) []int {
	cfg := &rs.spec.Rating
	if cfg.BandRounding != RoundingHalfUp {
		return nil
	}
	bands := cfg.Bands
	cuts := make([]int, len(bands))
	for i, b := range bands[:len(bands)-1] {
		if b.UptoPercent > 0 {
			cuts[i] = shareOf(n, b.UptoPercent)
		}
	}
	if last := bands[len(bands)-1]; last.BottomPercent > 0 {
		d := shareOf(n, last.BottomPercent)
		if last.MinFirms > 0 && n >= last.MinFirmsFrom && d < last.MinFirms {
			d = min(last.MinFirms, n)
		}
		cuts[len(bands)-1] = d
	}
	return cuts
}

// bandIndex is the band of competition rank r among n rated firms.
//
// half_up: the first band counted from the top whose cumulative count
// round(n × P %) reaches r; else, with a band counted from the bottom, that
// band when r is among the last d = round(n × bottom %) positions (r > n − d;
// at least min_firms once n ≥ min_firms_from), and the band before it
// otherwise; else the last band. The top bands are looked at first, so a
// firm never drops to the bottom band while a top band still has room.
//
// ceil (the first convention): the first band whose upto_percent P
// satisfies (r − 1) / n < P / 100 — fewer than P % of the rated firms are
// strictly ahead — and otherwise the last band.
func (rs *RuleSet) bandIndex(r, n int, cuts []int) int {
	bands := rs.spec.Rating.Bands
	last := len(bands) - 1
	if cuts == nil {
		for i, b := range bands[:last] {
			if float64(r-1)*100 < b.UptoPercent*float64(n) {
				return i
			}
		}
		return last
	}
	for i, b := range bands[:last] {
		if b.UptoPercent == 0 {
			break
		}
		if r <= cuts[i] {
			return i
		}
	}
	if bands[last].BottomPercent > 0 {
		if r > n-cuts[last] {
			return last
		}
		return last - 1
	}
	return last
}

// shareOf is round(n × percent / 100), 0.5 rounded up, computed exactly on
// the percentage as written (5, 12.5, 33.3), so that 30 firms × 5 % is 1.5
// and rounds to 2, never to a binary 1.4999….
func shareOf(n int, percent float64) int {
	p, ok := new(big.Rat).SetString(strconv.FormatFloat(percent, 'f', -1, 64))
	if !ok {
		return 0
	}
	p.Mul(p, big.NewRat(int64(n), 100))
	p.Add(p, big.NewRat(1, 2))
	return int(new(big.Int).Quo(p.Num(), p.Denom()).Int64()) // p ≥ 0: truncation is floor
}

// BandCounts is the number of firms per band (in the rule set's band order)
// when n rated firms have n different scores and none is below the floor:
// the convention's arithmetic, for printing next to it.
func (rs *RuleSet) BandCounts(n int) []int {
	cuts := rs.bandCuts(n)
	out := make([]int, len(rs.spec.Rating.Bands))
	for r := 1; r <= n; r++ {
		out[rs.bandIndex(r, n, cuts)]++
	}
	return out
}

// fillAverages gives every indicator scored by the average policy its
// points: the mean of the points of that indicator among rated firms that
// have its data, rounded to 0.01 (0 when no rated firm has), with the reason.
func (rs *RuleSet) fillAverages(out []Rating, m *ratingMethod) {
	for j := range m.inds {
		ind := &m.inds[j]
		if ind.Missing != MissingAverage {
			continue
		}
		sum, count := 0.0, 0
		for i := range out {
			if s := out[i].Indicators[j]; out[i].Rated && s.Missing == "" {
				sum, count = sum+s.Points, count+1
			}
		}
		avg := 0.0
		if count > 0 {
			avg = round(sum/float64(count), 2)
		}
		for i := range out {
			if s := &out[i].Indicators[j]; s.Missing == MissingAverage {
				s.Points = avg
				out[i].reason(catalog.Message{ID: "reason.average", Args: catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN),
					"Count": count, "Points": fmt2(avg)}}.Both())
			}
		}
	}
}

// score computes indicator j for the firm in env and notes anything unusual
// (no data, not computable, capped) in r's reasons. Points of an indicator
// scored by the average policy are filled in later (fillAverages).
func (rs *RuleSet) score(machine *vm.VM, env *firmEnv, m *ratingMethod, j int, r *Rating) (IndicatorScore, error) {
	cfg := &rs.spec.Rating
	ind := &m.inds[j]
	v, err := m.compiled[j].run(machine, env)
	if err != nil {
		return IndicatorScore{}, fmt.Errorf("rules: rating indicator %s of %s: %w", ind.ID, rs.spec.Park, err)
	}
	s := IndicatorScore{ID: ind.ID}
	if ind.Missing != "" {
		if field, missing := noData(ind, m.compiled[j], env, v); missing {
			s.Missing = ind.Missing
			args := catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Figure": figureName(field), "Class": cfg.NotRatedClass}
			id := map[string]string{MissingZero: "reason.missing_zero", MissingNotRated: "reason.missing_not_rated"}[ind.Missing]
			if id == "" { // average: the reason comes with the points
				id = "reason.not_reported"
			}
			r.reason(catalog.Message{ID: id, Args: args}.Both())
			return s, nil
		}
	}
	if !finite(v) {
		r.reason(catalog.Message{ID: "reason.not_computable", Args: catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN),
			"Figure": figureName(zeroRef(m.compiled[j], env, firmEnvIndex))}}.Both())
		return s, nil
	}
	s.Value, s.Valid = v, true
	limit := cfg.Cap * ind.Weight
	var p float64
	switch {
	case ind.Better == "lower" && v <= 0:
		p = limit
	case ind.Better == "lower":
		p = ind.Benchmark / v * ind.Weight
	default:
		p = v / ind.Benchmark * ind.Weight
	}
	if p >= limit {
		p, s.Capped = limit, true
		// Built by concatenation from parts fixed at Parse time: a park's
		// rating writes this line for thousands of firms.
		r.reason(m.capTexts[j].texts(fmt2(v)))
	}
	s.Points = round(math.Max(p, 0), 2)
	return s, nil
}

// noData reports whether the indicator has no data for the firm: one of its
// data figures is 0 (not reported), or its value v cannot be computed; field
// names the figure to blame.
func noData(ind *Indicator, f *formula, env *firmEnv, v float64) (field string, missing bool) {
	ev := reflect.ValueOf(env).Elem()
	for _, d := range ind.Data {
		if ev.Field(firmEnvIndex[d]).Float() == 0 {
			return d, true
		}
	}
	if !finite(v) {
		return zeroRef(f, env, firmEnvIndex), true
	}
	return "", false
}

// prepareRating renders the "capped" reason of each indicator (a frame).
func (rs *RuleSet) prepareRating() {
	cfg := &rs.spec.Rating
	rs.capTexts = capTexts(cfg.Indicators, cfg.Cap)
	rs.main = &ratingMethod{inds: cfg.Indicators, compiled: rs.indicators, capTexts: rs.capTexts, floorIdx: rs.floorIdx}
	if rs.below != nil {
		rs.below.capTexts = capTexts(rs.below.inds, cfg.Cap)
	}
}

func capTexts(inds []Indicator, cap float64) []frame {
	out := make([]frame, len(inds))
	for j := range inds {
		ind := &inds[j]
		out[j] = newFrame("reason.capped", catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Value": hole(0),
			"Unit": bothText(withUnit("", ind.Unit), withUnit("", unitENOf(ind))), "Limit": fmt2(cap * ind.Weight), "Cap": fmtNum(cap)})
	}
	return out
}

func unitENOf(ind *Indicator) string {
	if ind.UnitEN != "" {
		return ind.UnitEN
	}
	return ind.Unit
}

// checkFirms rejects input the rating cannot rank fairly.
func (rs *RuleSet) checkFirms(firms []FirmYear) error {
	seen := make(map[int64]bool, len(firms))
	for i := range firms {
		f := &firms[i]
		fail := func(field, id string, args catalog.Args) error {
			e := inputMsg(field, id, args)
			e.ProjectID = f.ProjectID
			return e
		}
		if seen[f.ProjectID] {
			return fail("project_id", "rating.firm_twice", catalog.Args{"ID": f.ProjectID})
		}
		seen[f.ProjectID] = true
		if f.NotFiled {
			if rs.spec.Rating.NotFiled == "" {
				return fail("not_filed", "rating.no_not_filed", nil)
			}
			continue
		}
		for _, nf := range []struct {
			name string
			v    float64
		}{{"land_area", f.LandArea}, {"output", f.Output}, {"value_added", f.ValueAdded}, {"tax", f.Tax},
			{"rd_expense", f.RDExpense}, {"revenue", f.Revenue}, {"energy_use", f.EnergyUse}, {"emissions", f.Emissions},
			{"electricity", f.Electricity}} {
			if e := CheckAmount(nf.name, figureName(nf.name), nf.v); e != nil {
				e.ProjectID = f.ProjectID
				return e
			}
		}
		if f.LandArea == 0 {
			return fail("land_area", "rating.land_area_positive", nil)
		}
		if e := CheckAmount("employees", figureName("employees"), float64(f.Employees)); e != nil {
			e.ProjectID = f.ProjectID
			return e
		}
	}
	return nil
}

// firmFieldNames are the annual figures a rating formula or data list may
// name, sorted, for messages.
func firmFieldNames() []string {
	names := make([]string, 0, len(firmEnvIndex))
	for n := range firmEnvIndex {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// BandConvention is the rating's convention in words, zh and en, as the
// rating page prints it: how ranks become classes (rounding, ties), the
// floor, and who is not rated and why.
func (rs *RuleSet) BandConvention() (zh, en string) {
	cfg := &rs.spec.Rating
	term := rs.classTerm()
	var z, e strings.Builder
	say := func(id string, args catalog.Args) { // one sentence in both languages
		textZH, textEN := catalog.Message{ID: id, Args: args}.Both()
		z.WriteString(textZH)
		e.WriteString(textEN)
	}
	bands := cfg.Bands
	last := len(bands) - 1
	if cfg.BandRounding != RoundingHalfUp {
		say("convention.ceil_intro", nil)
		for _, b := range bands[:last] {
			say("convention.ceil_band", catalog.Args{"Percent": fmtNum(b.UptoPercent), "Band": b.Band, "Term": term})
		}
		say("convention.ceil_rest", catalog.Args{"Band": bands[last].Band, "Term": term})
	} else {
		say("convention.half_intro", nil)
		var above catalog.List
		for i, b := range bands[:last] {
			if b.UptoPercent == 0 {
				break
			}
			above.Items = append(above.Items, b.Band)
			if i == 0 {
				say("convention.half_top", catalog.Args{"Band": b.Band, "Percent": fmtNum(b.UptoPercent)})
			} else {
				say("convention.half_together", catalog.Args{"Bands": above, "Percent": fmtNum(b.UptoPercent)})
			}
		}
		if b := bands[last]; b.BottomPercent > 0 {
			say("convention.half_bottom", catalog.Args{"Band": b.Band, "Percent": fmtNum(b.BottomPercent)})
			if b.MinFirms > 0 {
				say("convention.half_min", catalog.Args{"From": b.MinFirmsFrom, "Min": b.MinFirms})
			}
			say("convention.half_rest_after_bottom", catalog.Args{"Band": bands[last-1].Band})
		} else {
			say("convention.half_rest", catalog.Args{"Band": b.Band})
		}
		say("convention.half_round", nil)
	}
	say("convention.ties", catalog.Args{"Term": term})
	if rs.floorIdx >= 0 {
		ind := &cfg.Indicators[rs.floorIdx]
		say("convention.floor", catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Band": cfg.Floor.Band, "Term": term,
			"Floor": bothText(withUnit(fmtNum(cfg.Floor.Below), ind.Unit), withUnit(fmtNum(cfg.Floor.Below), unitENOf(ind)))})
	}
	say("convention.grace", catalog.Args{"Years": cfg.GraceYears, "Band": cfg.GraceBand, "Term": term})
	switch {
	case cfg.NotFiled == "":
		say("convention.not_filed_missing", nil)
	case cfg.NotFiled == cfg.NotRatedClass:
		say("convention.not_filed_not_rated", catalog.Args{"Band": cfg.NotFiled})
	default:
		say("convention.not_filed", catalog.Args{"Band": cfg.NotFiled})
	}
	inds := cfg.Indicators
	if m := cfg.BelowScale; m != nil {
		var zh, en []string
		for _, ind := range m.Indicators {
			z, e := catalog.Message{ID: "convention.below_scale_indicator",
				Args: catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Weight": fmtNum(ind.Weight)}}.Both()
			zh, en = append(zh, z), append(en, e)
		}
		// The English sentence leaves the list out: its readers have the
		// indicators' table beside it.
		say("convention.below_scale", catalog.Args{"Method": bothText(m.NameZH, m.NameEN),
			"Indicators": bothText(strings.Join(zh, "、"), strings.Join(en, ", "))})
		inds = append(slices.Clone(inds), m.Indicators...)
	}
	for _, ind := range inds {
		id := map[string]string{MissingAverage: "convention.missing_average", MissingZero: "convention.missing_zero", MissingNotRated: "convention.missing_not_rated"}[ind.Missing]
		if id != "" {
			say(id, catalog.Args{"Indicator": bothText(ind.NameZH, ind.NameEN), "Class": cfg.NotRatedClass})
		}
	}
	return z.String(), e.String()
}

// Measures returns the differentiated measures of a class (a band or the
// not-rated class); ok is false when the rule set lists none for it.
func (rs *RuleSet) Measures(class string) (ClassMeasures, bool) {
	for _, c := range rs.spec.Rating.Classes {
		if c.Class == class {
			c.MeasuresZH, c.MeasuresEN = slices.Clone(c.MeasuresZH), slices.Clone(c.MeasuresEN)
			return c, true
		}
	}
	return ClassMeasures{}, false
}
