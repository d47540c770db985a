package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

// demoPassword is every demo account's password; README and serve print it.
const demoPassword = "zonevet-demo"

// demoUsers are the demo accounts and their roles per park. reviewer1 works
// only in qingyuan and reviewer4 only in yingde, so park separation shows.
var demoUsers = []struct {
	name, display string
	roles         map[string][]engine.Role
}{
	{"promoter1", "张招商", map[string][]engine.Role{"qingyuan": {engine.RolePromoter}}},
	{"promoter2", "李招商", map[string][]engine.Role{"yingde": {engine.RolePromoter}}},
	{"reviewer1", "王评审", map[string][]engine.Role{"qingyuan": {engine.RoleReviewer}}},
	{"reviewer2", "赵评审", map[string][]engine.Role{"qingyuan": {engine.RoleReviewer}, "yingde": {engine.RoleReviewer}}},
	{"reviewer3", "钱评审", map[string][]engine.Role{"qingyuan": {engine.RoleReviewer}, "yingde": {engine.RoleReviewer}}},
	{"reviewer4", "孙评审", map[string][]engine.Role{"yingde": {engine.RoleReviewer}}},
	{"committee1", "周主任", map[string][]engine.Role{"qingyuan": {engine.RoleCommittee}, "yingde": {engine.RoleCommittee}}},
	// qingyuan's committee has three members, so its meetings have a quorum
	// to reach and a vote that can split (issue 14).
	{"committee2", "郑委员", map[string][]engine.Role{"qingyuan": {engine.RoleCommittee}}},
	{"committee3", "冯委员", map[string][]engine.Role{"qingyuan": {engine.RoleCommittee}}},
	{"auditor1", "吴审计", map[string][]engine.Role{"qingyuan": {engine.RoleAuditor}, "yingde": {engine.RoleAuditor}}},
	{"admin", "系统管理员", map[string][]engine.Role{"qingyuan": {engine.RoleAdmin}, "yingde": {engine.RoleAdmin}}},
}

// demoClock moves forward a little with every reading, within office hours
// (Beijing time), so the demo history spreads over the past weeks in order.
type demoClock struct{ t time.Time }

var beijing = time.FixedZone("CST", 8*3600)

func (c *demoClock) now() time.Time {
	c.t = c.t.Add(97 * time.Minute)
	if l := c.t.In(beijing); l.Hour() >= 18 || l.Hour() < 9 {
		next := time.Date(l.Year(), l.Month(), l.Day(), 9, 7, 0, 0, beijing)
		if l.Hour() >= 18 {
			next = next.AddDate(0, 0, 1)
		}
		c.t = next
	}
	if now := time.Now(); c.t.After(now) {
		c.t = now // never write a history that happens in the future
	}
	return c.t
}

// seedDemo creates the demo accounts and a dozen projects spread over the
// lifecycle. Every project gets there through the engine, so its history is
// real decision-log entries.
func seedDemo(ctx context.Context, a *app, docs string) error {
	users := map[string]*engine.User{}
	for _, du := range demoUsers {
		var roles []engine.RoleAssignment
		for park, rs := range du.roles {
			for _, r := range rs {
				roles = append(roles, engine.RoleAssignment{Role: r, Park: park})
			}
		}
		u, err := a.svc.CreateUser(ctx, du.name, du.display, demoPassword, roles)
		if err != nil {
			return fmt.Errorf("demo user %s: %w", du.name, err)
		}
		users[du.name] = u
	}
	// Twenty projects' histories take about ten weeks of office hours: start
	// so that the last ones end a few days ago, some steps now overdue.
	clock := &demoClock{t: time.Now().Add(-74 * 24 * time.Hour)}
	svc, err := engine.NewService(ctx, engine.Config{Store: a.db, Checkpoints: a.db, Now: clock.now, Location: a.svc.Location()})
	if err != nil {
		return err
	}
	d := &demo{ctx: ctx, svc: svc, users: users, docs: docs}
	if err := d.seedExpertPool(func(name, display string) (*engine.User, error) { // demo_experts.go
		return svc.CreateUser(ctx, name, display, demoPassword, []engine.RoleAssignment{{Role: engine.RoleReviewer, Park: "qingyuan"}})
	}); err != nil {
		return err
	}
	if err := a.svc.ReloadRoles(ctx); err != nil { // the pool's accounts, made through the demo's service
		return err
	}
	for _, p := range demoProjects {
		if err := d.run(p); err != nil {
			return fmt.Errorf("demo project %q: %w", p.in.Name, err)
		}
	}
	if err := seedTracking(d); err != nil { // cmd/zonevet/tracking.go
		return err
	}
	if err := seedDelegation(d); err != nil {
		return err
	}
	if err := seedReminders(ctx, a, users); err != nil { // cmd/zonevet/demo_notify.go
		return err
	}
	if err := seedShares(ctx, a, users); err != nil { // cmd/zonevet/demo_share.go
		return err
	}
	return seedRuleChange(ctx, a, users) // cmd/zonevet/demo_rules.go
}

type demo struct {
	ctx   context.Context
	svc   *engine.Service
	users map[string]*engine.User
	docs  string // the documents folder, for the meeting minutes an override cites
	// meetings counts the committee meetings held, for their numbers.
	meetings int
}

// step is one command of a demo project's path: an event with its actor, or
// a round of scores (event "score", fraction of each criterion's maximum).
type step struct {
	as, event, reason string
	scoreFraction     float64
	scorers           []string
	// override: the rules waived and the minutes' number (the minutes are
	// uploaded first, dated the day before); refused: the step must be
	// refused, and the refusal stays in the log.
	waive   []string
	minutes string
	refused bool
	// fix (return): what the promoter must fix (退回 with a target).
	fix []string
	// dissent (approve): committee3 votes against with this opinion, the
	// others in favour; the minutes record it.
	dissent string
}

type demoProject struct {
	by    string
	in    engine.ProjectInput
	steps []step
}

func (d *demo) run(dp demoProject) error {
	p, err := d.svc.CreateProject(d.ctx, d.users[dp.by], dp.in)
	if err != nil {
		return err
	}
	for _, st := range dp.steps {
		if st.event == engine.EventScore {
			rs, err := d.svc.RuleSetVersion(d.ctx, p.Report.RuleSetVersion)
			if err != nil {
				return err
			}
			scorers, err := d.drawnScorers(p, st.scorers) // demo_experts.go
			if err != nil {
				return err
			}
			for i, who := range scorers {
				items := map[string]float64{}
				for _, c := range rs.Scoring().Criteria {
					// Vary the sheets a little so the reviewers do not look cloned.
					f := st.scoreFraction + float64(i%3-1)*0.04
					items[c.ID] = float64(int(c.Max*f*2+0.5)) / 2
				}
				out, err := d.svc.Score(d.ctx, d.users[who], p.ID, engine.ScoreInput{Round: p.Round, Items: items, Comment: "材料齐全,数据可信。"})
				if err != nil {
					return fmt.Errorf("score by %s: %w", who, err)
				}
				p = out.Project
			}
			continue
		}
		act := engine.Action{Event: st.event, Version: p.Version, Reason: st.reason, Clauses: demoClauses(st.event), Waive: st.waive, Fix: st.fix}
		if (st.event == engine.EventApprove || st.event == engine.EventReject) && p.State == engine.StateCommitteeReview {
			if err := d.meeting(p, st, &act); err != nil {
				return fmt.Errorf("meeting on %s: %w", st.event, err)
			}
		}
		if st.minutes != "" {
			doc, err := d.uploadMinutes(d.users[st.as], p.ID, st.minutes)
			if err != nil {
				return fmt.Errorf("minutes: %w", err)
			}
			act.MinutesDocument, act.MinutesNumber = doc.ID, st.minutes
			act.MinutesDate = d.svc.Now().In(d.svc.Location()).AddDate(0, 0, -1).Format(time.DateOnly)
		}
		next, err := d.svc.Act(d.ctx, d.users[st.as], p.ID, act)
		switch {
		case st.refused && err == nil:
			return fmt.Errorf("%s by %s was not refused", st.event, st.as)
		case st.refused:
			continue
		case err != nil:
			return fmt.Errorf("%s by %s: %w", st.event, st.as, err)
		}
		p = next
	}
	return nil
}

// meeting decides p in a committee meeting of its park, every member
// present: all vote for the step's outcome (st.reason as the opinion),
// except committee3 against when st.dissent is set; the minutes are written
// to the documents folder and named in act.
func (d *demo) meeting(p *engine.Project, st step, act *engine.Action) error {
	chair := d.users[st.as]
	members, err := d.svc.CommitteeMembers(d.ctx, chair, p.Park)
	if err != nil {
		return err
	}
	d.meetings++
	heldOn := d.svc.Now().In(d.svc.Location()).Format(time.DateOnly)
	m, err := d.svc.OpenMeeting(d.ctx, chair, engine.MeetingInput{Park: p.Park, HeldOn: heldOn,
		Number: fmt.Sprintf("清高管纪〔2026〕%d号", 20+d.meetings), Present: members})
	if err != nil {
		return err
	}
	for _, name := range members {
		in := engine.VoteInput{Choice: engine.VoteAgree, Opinion: st.reason}
		if st.event == engine.EventReject {
			in.Choice = engine.VoteDisagree
		}
		if name == "committee3" && st.dissent != "" {
			in = engine.VoteInput{Choice: engine.VoteDisagree, Opinion: st.dissent}
		} else if name != chair.Username {
			in.Opinion = "同意主持人意见。"
			if st.event == engine.EventReject {
				in.Opinion = "同意不予立项。"
			}
		}
		if _, err := d.svc.CastVote(d.ctx, d.users[name], m.ID, p.ID, in); err != nil {
			return fmt.Errorf("vote by %s: %w", name, err)
		}
	}
	body, err := d.svc.Minutes(d.ctx, chair, m.ID, p.ID)
	if err != nil {
		return err
	}
	stored := rand.Text()
	if err := os.MkdirAll(d.docs, 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.docs, stored), body, 0o640); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	act.Meeting, act.MinutesStored, act.MinutesSHA256, act.Reason = m.ID, stored, hex.EncodeToString(sum[:]), ""
	return nil
}

// uploadMinutes files the meeting minutes (会议纪要) an override cites, as a
// committee member would upload them: a small PDF in the documents folder.
func (d *demo) uploadMinutes(u *engine.User, projectID int64, number string) (*engine.Document, error) {
	body := []byte("%PDF-1.4\n% 清远高新区管委会会议纪要 " + number + "\n%%EOF\n")
	stored := rand.Text()
	if err := os.MkdirAll(d.docs, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(d.docs, stored), body, 0o640); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	doc := &engine.Document{Kind: engine.DocumentMinutes, FileName: "管委会会议纪要(" + number + ").pdf", StoredName: stored,
		MediaType: "application/pdf", Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
	return doc, d.svc.AddDocument(d.ctx, u, projectID, doc)
}

// figures returns plausible figures for a project on land mu with the given
// fixed-asset investment intensity, output and tax per mu (万元/亩).
func figures(code string, land, intensity, outputPerMu, taxPerMu, rdShare float64) rules.Figures {
	fixed := land * intensity
	output := land * outputPerMu
	energy := output * 0.012
	electricity := energy * 0.5 // 万千瓦时: about 60 % of the energy use is electricity (1 万千瓦时 ≈ 1.229 吨标准煤)
	return rules.Figures{
		IndustryCode: code, TotalInvestment: new(fixed * 1.25), FixedAssetInvestment: new(fixed), LandArea: new(land),
		FloorArea: new(land * 2000 / 3 * 1.5), BuildingCoverage: new(48.0), OfficeShare: new(5.0), GreenRatio: new(8.0),
		LandGrade: new(9), LandPrice: new(18.0), // 九等: national floor 204 元/m² = 13.6 万元/亩
		ExpectedOutput: new(output), Revenue: new(output * 0.95), Tax: new(land * taxPerMu), RDExpense: new(output * 0.95 * rdShare / 100),
		EnergyUse: new(energy), Electricity: new(electricity), Employees: new(int(land * 6)),
		NegativeList: new(false), EcoRedLine: new(false), BadCredit: new(false),
		// Projects at the energy-review trigger come with their 节能报告 and 节能审查意见, as the rules require.
		EnergyAssessment: new(energy >= 1000 || electricity >= 500),
	}
}

// incomplete is a draft whose promoter has not yet got the investor's
// energy and land figures nor the declarations: it can be saved, not submitted.
func incomplete(f rules.Figures) rules.Figures {
	f.EnergyUse, f.Electricity, f.GreenRatio, f.LandGrade, f.LandPrice = nil, nil, nil, nil, nil
	f.EcoRedLine, f.BadCredit = nil, nil
	return f
}

// onRedLine is a project whose site lies in the ecological red line: a veto.
func onRedLine(f rules.Figures) rules.Figures {
	f.EcoRedLine = new(true)
	return f
}

var (
	submit   = step{as: "promoter1", event: engine.EventSubmit}
	pass     = step{as: "reviewer1", event: engine.EventPass}
	scored   = step{event: engine.EventScore, scoreFraction: 0.82, scorers: []string{"reviewer1", "reviewer2", "reviewer3"}}
	approve  = step{as: "committee1", event: engine.EventApprove, reason: "符合园区主导产业方向,亩均指标达标,同意立项。"}
	sign     = step{as: "promoter1", event: engine.EventSign}
	build    = step{as: "promoter1", event: engine.EventStartConstruction}
	produce  = step{as: "promoter1", event: engine.EventStartProduction}
	approved = []step{submit, pass, scored, approve}
	// inProduction is the whole vetting path, then signing, construction and production.
	inProduction = append(append([]step{}, approved...), sign, build, produce)
)

// demoProjects, in the order they are played: the longest histories first, so
// the projects still waiting were touched most recently.
var demoProjects = []demoProject{
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "清远低效铸造扩产项目", InvestorName: "清远市恒通铸造有限公司", USCC: uscc("91441800MA4UL0Q1"),
		Figures: figures("C3391", 60, 310, 820, 31, 1.6)},
		append(append([]step{}, approved...), sign, build, produce,
			step{as: "committee1", event: engine.EventRectify, reason: "2025 年度亩均效益评价为 D 类,亩均税收 4.2 万元/亩,低于 5 万元/亩底线,限期整改。"},
			step{as: "committee1", event: engine.EventExit, reason: "整改期满仍未达标,依投资协议第十二条启动土地回购。"})},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "广清精密模具制造项目", InvestorName: "广东精工模具科技有限公司", USCC: uscc("91441800MA4UP7K2"),
		Figures: figures("C3525", 40, 320, 850, 32, 3.2)},
		append(append([]step{}, approved...), sign, build, produce,
			step{as: "committee1", event: engine.EventRectify, reason: "研发经费投入强度 1.1%,低于签约承诺 3%,限 90 日内提交整改方案。"})},
	// Five more firms in production, so the rating and the dashboard show a
	// real spread: from well above the park's benchmarks to below the tax
	// floor (their annual figures are in tracking.go).
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "特种工程塑料改性项目", InvestorName: "清远新塑高分子材料有限公司", USCC: uscc("91441800MA4X1A2B"),
		Figures: figures("C2651", 45, 350, 1000, 38, 4)}, inProduction},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "伺服电机及驱动器项目", InvestorName: "广东清远伺服动力科技有限公司", USCC: uscc("91441800MA4X3C4D"),
		Figures: figures("C3812", 30, 330, 900, 34, 3.6)}, inProduction},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "片式电感元件项目", InvestorName: "清远磁芯电子有限公司", USCC: uscc("91441800MA4X5E6F"),
		Figures: figures("C3981", 36, 340, 950, 35, 3.4)}, inProduction},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "体外诊断试剂生产项目", InvestorName: "清远康检生物科技有限公司", USCC: uscc("91441800MA4X7G8H"),
		Figures: figures("C2770", 20, 380, 1000, 40, 6)}, inProduction},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "五金冲压件扩产项目", InvestorName: "清远市联丰五金制品有限公司", USCC: uscc("91441800MA4X9J0K"),
		Figures: figures("C3399", 50, 305, 810, 31, 1.8)}, inProduction},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "高性能电子铜箔项目", InvestorName: "清远华科新材料股份有限公司", USCC: uscc("91441800MA53CX9A"),
		Figures: figures("C3985", 80, 420, 1300, 45, 4.5)},
		append(append([]step{}, submit, pass, scored,
			step{as: "committee1", event: engine.EventApprove, reason: "符合园区主导产业方向,亩均指标达标,同意立项。",
				dissent: "亩均税收 45 万元/亩的承诺依赖二期达产,建议签约时将二期投资进度写入协议并设违约条款后再批准。"}),
			sign, build, produce)},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "医用高值耗材生产基地", InvestorName: "清远康瑞医疗器械有限公司", USCC: uscc("91441800MA55TR3B"),
		Figures: figures("C3581", 35, 380, 1100, 40, 6)},
		append(append([]step{}, approved...), sign, build)},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "工业机器人减速器项目", InvestorName: "广东智驱传动科技有限公司", USCC: uscc("91441800MA56AB1C"),
		Figures: figures("C3491", 50, 360, 950, 36, 3.8)},
		append(append([]step{}, approved...), sign)},
	// Below the investment-intensity floor (280 < 300 万元/亩, a hard rule):
	// the committee lets it through screening by 一事一议, so the decision log
	// holds an override for auditors to find.
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "锂电池隔膜新材料项目", InvestorName: "清远锐新能源材料有限公司", USCC: uscc("91441800MA57HJ2D"),
		Figures: figures("C2922", 70, 280, 900, 33, 3.2)},
		[]step{submit,
			{as: "committee1", event: engine.EventOverride, waive: []string{"investment_intensity"}, minutes: "清高管纪〔2026〕9号",
				reason: "一事一议:固定资产投资强度 280 万元/亩,低于 300 的标准,但为新能源电池材料链主项目,分两期投资,二期达产后强度超过 360;经管委会 2026 年第 9 次会议同意进入专家评审。"},
			scored, approve}},
	// The site lies in the ecological red line, a veto: the committee's
	// attempt at 一事一议 is refused and logged, and the reviewer returns it.
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "江畔化工中间体项目", InvestorName: "清远江源化工科技有限公司", USCC: uscc("91441800MA5F2R3P"),
		Figures: onRedLine(figures("C2614", 40, 320, 850, 32, 2))},
		[]step{submit,
			{as: "committee1", event: engine.EventOverride, refused: true, waive: []string{"veto_eco_red_line"},
				reason: "一事一议:重大项目,税收贡献大,建议特事特办放行进入专家评审。"},
			{as: "reviewer1", event: engine.EventReturn, reason: "选址位于生态保护红线内,属一票否决,请投资方另行选址后重新申报。"}}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "普通包装纸箱项目", InvestorName: "清远市顺达包装有限公司", USCC: uscc("91441800MA58KL3E"),
		Figures: figures("C2231", 30, 310, 820, 31, 1.6)},
		[]step{submit, pass, {event: engine.EventScore, scoreFraction: 0.8, scorers: []string{"reviewer1", "reviewer2", "reviewer3"}},
			{as: "committee1", event: engine.EventReject, reason: "非园区主导产业,研发经费投入强度 1.6% 偏低,产业链带动作用有限,不予立项。"}}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "5G 通信模组制造项目", InvestorName: "清远讯联通信技术有限公司", USCC: uscc("91441800MA59MN4F"),
		Figures: figures("C3921", 45, 400, 1200, 42, 5.2)},
		[]step{submit, pass, scored}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "数控机床关键部件项目", InvestorName: "广东清远重装科技有限公司", USCC: uscc("91441800MA5AQR5G"),
		Figures: figures("C3421", 55, 330, 880, 34, 3.1)},
		[]step{submit, pass, {event: engine.EventScore, scoreFraction: 0.8, scorers: []string{"reviewer2"}}}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "生物医药中试基地", InvestorName: "清远博济生物医药有限公司", USCC: uscc("91441800MA5BRT6H"),
		Figures: figures("C2761", 25, 350, 600, 28, 8)},
		[]step{submit, {as: "reviewer1", event: engine.EventReturn, reason: "达产年亩均产值、亩均税收低于标准,请投资方补充市场分析并调整用地规模。",
			fix: []string{"figure:land_area", "figure:expected_output", "figure:tax", "document:feasibility"}}}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "再生塑料颗粒加工项目", InvestorName: "清远市绿源塑胶制品有限公司", USCC: uscc("91441800MA5CUW7J"),
		Figures: figures("C2929", 40, 200, 500, 15, 0.5)},
		[]step{submit}},
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "智能传感器封装测试项目", InvestorName: "清远芯测微电子有限公司", USCC: uscc("91441800MA5DWX8K"),
		Figures: figures("C3973", 38, 450, 1250, 48, 7)},
		append(append([]step{}, approved...), sign)}, // its land lies idle: seedCommitments levies the fee
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "新型显示材料项目(草稿)", InvestorName: "清远光显材料科技有限公司", USCC: uscc("91441800MA5EXY9L"),
		Figures: figures("C3976", 42, 380, 1000, 38, 4)},
		nil},
	// Saved as a draft with the energy and land-price figures and two
	// declarations still blank: incomplete, it cannot be submitted yet.
	{"promoter1", engine.ProjectInput{Park: "qingyuan", Name: "光伏背板膜项目(待补充资料)", InvestorName: "清远晶膜新能源科技有限公司", USCC: uscc("91441800MA5G4T5Q"),
		Figures: incomplete(figures("C2921", 30, 330, 900, 32, 3))},
		nil},
	{"promoter2", engine.ProjectInput{Park: "yingde", Name: "英德高端陶瓷新材料项目", InvestorName: "英德市宏陶新材料有限公司", USCC: uscc("91441881MA4W0A1M"),
		Figures: figures("C3072", 60, 280, 600, 24, 3.5)},
		[]step{{as: "promoter2", event: engine.EventSubmit}, {as: "reviewer2", event: engine.EventPass}}},
	{"promoter2", engine.ProjectInput{Park: "yingde", Name: "英德茶叶深加工项目", InvestorName: "英德市红茶产业发展有限公司", USCC: uscc("91441881MA4W2B2N"),
		Figures: figures("C1530", 20, 260, 520, 21, 1.6)},
		[]step{{as: "promoter2", event: engine.EventSubmit}}},
}

// uscc completes a 16-character prefix (authority, category, division and
// the organisation code's body) into a valid 18-character unified social
// credit code: it appends the organisation code's check digit (GB 11714)
// and the code's check character (GB 32100).
func uscc(prefix string) string {
	for _, o := range "0123456789X" {
		for _, c := range "0123456789ABCDEFGHJKLMNPQRTUWXY" {
			if code := prefix + string(o) + string(c); engine.ValidUSCC(code) {
				return code
			}
		}
	}
	panic("uscc: bad prefix " + prefix)
}

// seedDelegation leaves one delegation in force: reviewer1 (王评审), away on
// a trip this week, hands the reviewer role in qingyuan to reviewer3 (钱评审).
func seedDelegation(d *demo) error {
	today := d.svc.Now().In(d.svc.Location())
	_, err := d.svc.Delegate(d.ctx, d.users["reviewer1"], engine.DelegationInput{Park: "qingyuan", Role: engine.RoleReviewer,
		Delegate: "reviewer3", Starts: today.AddDate(0, 0, -1).Format(time.DateOnly), Ends: today.AddDate(0, 0, 6).Format(time.DateOnly),
		Reason: "赴省科技厅参加评审培训(出差一周),期间初审由钱评审代办"})
	if err != nil {
		return fmt.Errorf("demo delegation: %w", err)
	}
	return nil
}
