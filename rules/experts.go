package rules

import "zonevet/rules/catalog"

// ExpertRules are the numbers of the random draw from a park's expert pool
// (专家库随机抽取) when a project enters expert review.
type ExpertRules struct {
	// Draw is how many experts are drawn; 0 means the scoring quorum.
	Draw int `yaml:"draw" json:"draw"`
	// MinField is how many of those drawn must cover the project's industry
	// (when enough eligible experts do); default 1.
	MinField *int `yaml:"min_field,omitempty" json:"min_field,omitempty"`
}

// Experts returns the draw's numbers with the defaults filled in: N = the
// scoring quorum, at least one drawn expert covering the project's industry.
func (rs *RuleSet) Experts() (n, minField int) {
	n, minField = rs.spec.Scoring.Quorum, 1
	if e := rs.spec.Experts; e != nil {
		if e.Draw > 0 {
			n = e.Draw
		}
		if e.MinField != nil {
			minField = *e.MinField
		}
	}
	return n, min(minField, n)
}

func (b *builder) buildExperts() {
	e := b.spec.Experts
	if e == nil {
		return
	}
	if e.Draw < 0 || (e.Draw > 0 && e.Draw < b.spec.Scoring.Quorum) {
		b.add("$.experts.draw", "rules.experts_draw_below_quorum", catalog.Args{"Draw": e.Draw, "Quorum": b.spec.Scoring.Quorum})
	}
	if e.MinField != nil && (*e.MinField < 0 || (e.Draw > 0 && *e.MinField > e.Draw)) {
		b.add("$.experts.min_field", "rules.experts_min_field_out_of_range", catalog.Args{"MinField": *e.MinField})
	}
}
