package rules

import (
	"fmt"

	"zonevet/rules/catalog"
)

// ParkTargets are the park's own development goals, shown on the dashboard
// beside the year's actuals of that park. They are the park's, so they live
// in its rule set; the zone-wide goal of the city (全市高新区工业总产值超
// 1000 亿元) is for all parks together and is not a park's target (engine's
// dashboard keeps it).
//
//	targets:
//	  high_tech_share: 55        # 高新技术企业占规上工业企业比重 must exceed it, %
//	  high_tech_output_share: 60 # 高新技术企业工业总产值占比 must exceed it, %
type ParkTargets struct {
	// HighTechShare: above-scale high-tech enterprises as a percentage of
	// the park's above-scale industrial firms.
	HighTechShare float64 `yaml:"high_tech_share" json:"high_tech_share"`
	// HighTechOutputShare: high-tech enterprises' industrial output as a
	// percentage of the park's industrial output.
	HighTechOutputShare float64 `yaml:"high_tech_output_share" json:"high_tech_output_share"`
}

// buildTargets validates the optional targets: section. Both shares are
// percentages a park can exceed: more than 0, less than 100.
func (b *builder) buildTargets() {
	t := b.spec.Targets
	if t == nil {
		return
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"high_tech_share", t.HighTechShare}, {"high_tech_output_share", t.HighTechOutputShare}} {
		if !finite(f.v) || f.v <= 0 || f.v >= 100 {
			b.add("$.targets."+f.key, "rules.is_percentage_actual_must_exceed_more", catalog.Args{"Key": f.key, "V": fmt.Sprint(f.v)})
		}
	}
}

// Targets returns the park's own targets, and false when its rule set has
// no targets: section (older versions).
func (rs *RuleSet) Targets() (ParkTargets, bool) {
	if rs.spec.Targets == nil {
		return ParkTargets{}, false
	}
	return *rs.spec.Targets, true
}
