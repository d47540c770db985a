package rules

import (
	"fmt"
	"math"
	"slices"
	"strconv"

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
}

// IndicatorScore is one indicator of one firm's rating.
type IndicatorScore struct {
	ID     string  `json:"id"`
	Value  float64 `json:"value"`  // the indicator's value, 0 when it cannot be computed
	Points float64 `json:"points"` // rounded to 0.01
	Valid  bool    `json:"valid"`  // false when the value could not be computed (e.g. no output to divide by)
	Capped bool    `json:"capped"` // the points hit the cap
}

// Rating is one firm's result in the annual per-mu rating.
type Rating struct {
	ProjectID  int64            `json:"project_id"`
	Name       string           `json:"name"`
	Indicators []IndicatorScore `json:"indicators"` // in the rule set's order
	Total      float64          `json:"total"`      // sum of points, rounded to 0.01
	Rank       int              `json:"rank"`       // 1 is best; equal totals share a rank; 0 when not rated
	Band       string           `json:"band"`       // "A".."D"; the grace band for firms not rated
	Rated      bool             `json:"rated"`      // false within the grace period
	Floor      bool             `json:"floor"`      // put in the floor band by the tax floor, regardless of rank
	ReasonsZH  []string         `json:"reasons_zh"`
	ReasonsEN  []string         `json:"reasons_en"`
}

// Rate runs the annual per-mu rating over all firms of the park for one year.
// It is pure: firms' figures in, ratings out.
//
// Points: an indicator scores value ÷ benchmark × weight, or benchmark ÷
// value × weight when lower is better (a value of 0 then earns the cap),
// never below 0 nor above cap × weight, rounded to 0.01. An indicator that
// cannot be computed (NaN or ±Inf, e.g. energy per output with no output)
// scores 0 and says so in the reasons. Total is the sum of the rounded
// points, rounded to 0.01, so totals that print alike compare alike.
//
// Rank: firms in grace are not rated. Rated firms are ordered by Total,
// highest first, ties by ProjectID ascending; rank is "competition" rank:
// 1 + the number of rated firms with a strictly higher Total, so equal
// totals share a rank (1, 2, 2, 4).
//
// Band: with n rated firms, a firm of rank r gets the first band whose
// upto_percent P satisfies (r − 1) / n < P / 100 — that is, fewer than P %
// of the rated firms are strictly ahead of it — and otherwise the last band.
// With bands A 20, B 70, C 95, D: of 20 firms ranks 1–4 are A, 5–14 B,
// 15–19 C and 20 D; of 10 firms ranks 1–2 A, 3–7 B, 8–10 C and none D (5 %
// of 10 firms is half a firm: nobody is demoted for a fraction); a lone firm
// is A. Tied firms share the better band. The floor then overrides: a firm
// whose floor indicator is below the floor (or cannot be computed) gets the
// floor band whatever its rank, keeping its rank for the record.
//
// Order: rated firms by (Rank, ProjectID), then firms in grace by ProjectID.
// Bad input (duplicate ProjectID, no land, negative or non-finite figures)
// is an *InputError naming the firm and field.
func (rs *RuleSet) Rate(firms []FirmYear) ([]Rating, error) {
	cfg := &rs.spec.Rating
	if err := checkFirms(firms); err != nil {
		return nil, err
	}
	out := make([]Rating, len(firms))
	scores := make([]IndicatorScore, len(firms)*len(cfg.Indicators))
	machine := vms.Get().(*vm.VM)
	defer vms.Put(machine)
	env := new(firmEnv)
	for i := range firms {
		f := &firms[i]
		r := &out[i]
		r.ProjectID, r.Name, r.Rated = f.ProjectID, f.Name, !f.InGrace
		r.Indicators = scores[i*len(cfg.Indicators) : (i+1)*len(cfg.Indicators) : (i+1)*len(cfg.Indicators)]
		r.ReasonsZH, r.ReasonsEN = make([]string, 0, 2), make([]string, 0, 2)
		env.set(f)
		total := 0.0
		for j := range cfg.Indicators {
			s, err := rs.score(machine, env, j, r)
			if err != nil {
				return nil, err
			}
			r.Indicators[j] = s
			total += s.Points
		}
		r.Total = round(total, 2)
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
	for i := range out {
		r := &out[i]
		if !r.Rated {
			r.Band = cfg.GraceBand
			r.ReasonsZH = append(r.ReasonsZH, fmt.Sprintf("供地未满 %d 年,本年度不参与评价,按 %s 档对待", cfg.GraceYears, cfg.GraceBand))
			r.ReasonsEN = append(r.ReasonsEN, fmt.Sprintf("within %d years of the land grant: not rated this year, treated as band %s", cfg.GraceYears, cfg.GraceBand))
			continue
		}
		if i > 0 && out[i-1].Total == r.Total {
			r.Rank = out[i-1].Rank
		} else {
			r.Rank = i + 1
		}
		r.Band = cfg.Bands[len(cfg.Bands)-1].Band
		for _, b := range cfg.Bands[:len(cfg.Bands)-1] {
			if float64(r.Rank-1)*100 < b.UptoPercent*float64(n) {
				r.Band = b.Band
				break
			}
		}
		total, rank, count := fmt2(r.Total), strconv.Itoa(r.Rank), strconv.Itoa(n)
		r.ReasonsZH = append(r.ReasonsZH, "综合得分 "+total+" 分,在 "+count+" 家参评企业中排名第 "+rank+",按排名评为 "+r.Band+" 档")
		r.ReasonsEN = append(r.ReasonsEN, "score "+total+", rank "+rank+" of "+count+" rated firms: band "+r.Band+" by rank")
		if rs.floorIdx >= 0 {
			s, ind := r.Indicators[rs.floorIdx], &cfg.Indicators[rs.floorIdx]
			if !s.Valid || opLT.holds(s.Value, cfg.Floor.Below) {
				r.Floor, r.Band = true, cfg.Floor.Band
				r.ReasonsZH = append(r.ReasonsZH, fmt.Sprintf("%s %s,低于底线 %s,不论排名评为 %s 档",
					ind.NameZH, withUnit(fmt2(s.Value), ind.Unit), withUnit(fmtNum(cfg.Floor.Below), ind.Unit), cfg.Floor.Band))
				r.ReasonsEN = append(r.ReasonsEN, fmt.Sprintf("%s %s is below the floor of %s: band %s regardless of rank",
					ind.NameEN, withUnit(fmt2(s.Value), unitENOf(ind)), withUnit(fmtNum(cfg.Floor.Below), unitENOf(ind)), cfg.Floor.Band))
			}
		}
	}
	return out, nil
}

// score computes indicator j for the firm in env and notes anything unusual
// (not computable, capped) in r's reasons.
func (rs *RuleSet) score(machine *vm.VM, env *firmEnv, j int, r *Rating) (IndicatorScore, error) {
	cfg := &rs.spec.Rating
	ind := &cfg.Indicators[j]
	v, err := rs.indicators[j].run(machine, env)
	if err != nil {
		return IndicatorScore{}, fmt.Errorf("rules: rating indicator %s of %s: %w", ind.ID, rs.spec.Park, err)
	}
	s := IndicatorScore{ID: ind.ID}
	if !finite(v) {
		field := figureLabels[zeroRef(rs.indicators[j], env, firmEnvIndex)]
		r.ReasonsZH = append(r.ReasonsZH, fmt.Sprintf("%s无法计算(%s为 0),该项计 0 分", ind.NameZH, field.zh))
		r.ReasonsEN = append(r.ReasonsEN, fmt.Sprintf("%s cannot be computed (%s is 0): 0 points", ind.NameEN, field.en))
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
		t := &rs.capTexts[j]
		val := fmt2(v)
		r.ReasonsZH = append(r.ReasonsZH, t[0]+val+t[1])
		r.ReasonsEN = append(r.ReasonsEN, t[2]+val+t[3])
	}
	s.Points = round(math.Max(p, 0), 2)
	return s, nil
}

// prepareRating builds the fixed parts of the "capped" reason per indicator:
// [zh before value, zh after value, en before value, en after value].
func (rs *RuleSet) prepareRating() {
	cfg := &rs.spec.Rating
	rs.capTexts = make([][4]string, len(cfg.Indicators))
	for j := range cfg.Indicators {
		ind := &cfg.Indicators[j]
		limit := fmt2(cfg.Cap * ind.Weight)
		rs.capTexts[j] = [4]string{
			ind.NameZH + " ", withUnit("", ind.Unit) + ",得分封顶 " + limit + " 分(权重的 " + fmtNum(cfg.Cap) + " 倍)",
			ind.NameEN + " ", withUnit("", unitENOf(ind)) + ": points capped at " + limit + " (" + fmtNum(cfg.Cap) + "× weight)",
		}
	}
}

func unitENOf(ind *Indicator) string {
	if ind.UnitEN != "" {
		return ind.UnitEN
	}
	return ind.Unit
}

// checkFirms rejects input the rating cannot rank fairly.
func checkFirms(firms []FirmYear) error {
	seen := make(map[int64]bool, len(firms))
	for i := range firms {
		f := &firms[i]
		fail := func(field, zh, en string) error {
			e := inputError(field, zh, en)
			e.ProjectID = f.ProjectID
			return e
		}
		if seen[f.ProjectID] {
			return fail("project_id", fmt.Sprintf("项目 %d 重复出现", f.ProjectID), fmt.Sprintf("project %d is listed twice", f.ProjectID))
		}
		seen[f.ProjectID] = true
		for _, nf := range []struct {
			name string
			v    float64
		}{{"land_area", f.LandArea}, {"output", f.Output}, {"value_added", f.ValueAdded}, {"tax", f.Tax},
			{"rd_expense", f.RDExpense}, {"revenue", f.Revenue}, {"energy_use", f.EnergyUse}, {"emissions", f.Emissions}} {
			l := figureLabels[nf.name]
			switch {
			case !finite(nf.v):
				return fail(nf.name, l.zh+"必须是有限数值", l.en+" must be a finite number")
			case nf.v < 0:
				return fail(nf.name, fmt.Sprintf("%s不能为负数(填写值 %s)", l.zh, fmtNum(nf.v)), fmt.Sprintf("%s must not be negative (got %s)", l.en, fmtNum(nf.v)))
			}
		}
		if f.LandArea == 0 {
			return fail("land_area", "用地面积必须大于 0 亩", "land area must be greater than 0 mu")
		}
		if f.Employees < 0 {
			return fail("employees", "就业人数不能为负数", "employees must not be negative")
		}
	}
	return nil
}
