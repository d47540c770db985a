package main

import (
	"context"
	"fmt"
	"strings"

	"zonevet/engine"
	"zonevet/rules"
)

// seedRuleChange leaves one rule-set change waiting for the committee
// (issue 12): the admin proposes raising qingyuan's investment-intensity
// floor from 300 to 330 万元/亩 (广清园's figure) and the tax-per-mu weight
// of the rating from 35 to 30, and generates the what-if report, so the
// committee finds a proposal with its diff and replay on the 规则集 page.
func seedRuleChange(ctx context.Context, a *app, users map[string]*engine.User) error {
	def, err := rules.Default("qingyuan")
	if err != nil {
		return err
	}
	src := string(def.Source())
	for _, r := range [][2]string{
		{"value: 300 # 国家级园区取 300", "value: 330 # 参照广清园 330"},
		{"formula: tax / land_area, weight: 35", "formula: tax / land_area, weight: 30"},
		{"formula: output / land_area, weight: 20", "formula: output / land_area, weight: 25"},
	} {
		if strings.Count(src, r[0]) != 1 {
			return fmt.Errorf("demo rule change: %q not found once in the default file", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	c, err := a.svc.ProposeRuleSet(ctx, users["admin"], "qingyuan", "qingyuan.yaml", []byte(src),
		"对标广清产业园,将固定资产投资强度门槛由 300 提高至 330 万元/亩;亩均效益评价中亩均税收权重由 35 调为 30、亩均产值由 20 调为 25,引导企业提高产出。")
	if err != nil {
		return fmt.Errorf("demo rule change: %w", err)
	}
	if _, _, err := a.svc.GenerateWhatIf(ctx, users["admin"], c.ID); err != nil {
		return fmt.Errorf("demo rule change what-if: %w", err)
	}
	return nil
}
