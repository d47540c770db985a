package main

import (
	"fmt"

	"zonevet/engine"
)

// seedCommitments shows what the agreement's commitments lead to after the
// rating run: a 达产复核 that passes, one whose tax per mu falls short of the
// commitment (rectification citing the agreement's clause), and an idle-land
// fee on a signed project whose agreed start passed more than a year ago.
func seedCommitments(d *demo) error {
	committee := d.users["committee1"]
	ps, _, err := d.svc.Projects(d.ctx, committee, engine.ProjectFilter{Parks: []string{"qingyuan"},
		States: []engine.State{engine.StateSigned, engine.StateInProduction}, Sort: "id"})
	if err != nil {
		return err
	}
	year := d.svc.Today().Year() - 1
	for _, p := range ps {
		switch p.Name {
		case "特种工程塑料改性项目", "片式电感元件项目":
			if p.State != engine.StateInProduction {
				continue
			}
			// The investment was made as agreed; tax and output are last year's figures.
			in := engine.ReviewInput{Version: p.Version, Year: year, FixedAssetInvestment: *p.Figures.FixedAssetInvestment}
			if _, _, err := d.svc.ReviewFullProduction(d.ctx, committee, p.ID, in); err != nil {
				return fmt.Errorf("full-production review of %s: %w", p.Name, err)
			}
		case "智能传感器封装测试项目":
			act := engine.Action{Event: engine.EventIdleLand, Version: p.Version,
				Reason: "超过约定开工日期满一年未动工,依《闲置土地处置办法》征缴土地闲置费,限期动工开发。",
				Idle:   &engine.IdleFacts{LandPrice: *p.Figures.LandArea * 45}} // 出让价 45 万元/亩
			if _, err := d.svc.Act(d.ctx, committee, p.ID, act); err != nil {
				return fmt.Errorf("idle land of %s: %w", p.Name, err)
			}
		}
	}
	return nil
}
