package engine

// Labels are the names of states and events shown to people. They live here,
// beside the lifecycle, so the CLI, the web and error messages say the same.
var stateLabels = map[State][2]string{
	StateDraft:             {"草稿", "Draft"},
	StateScreening:         {"初审(规则筛查)", "Screening"},
	StateExpertReview:      {"专家评审", "Expert review"},
	StateCommitteeReview:   {"管委会审议", "Committee review"},
	StateReturned:          {"退回修改", "Returned"},
	StateWithdrawn:         {"已撤回", "Withdrawn"},
	StateApproved:          {"已批准", "Approved"},
	StateRejected:          {"已否决", "Rejected"},
	StateSigned:            {"已签约", "Signed"},
	StateUnderConstruction: {"在建", "Under construction"},
	StateInProduction:      {"已投产", "In production"},
	StateRectification:     {"整改中", "Rectification"},
	StateExited:            {"已退出", "Exited"},
}

var eventLabels = map[string][2]string{
	EventCreate:            {"登记项目", "register"},
	EventUpdate:            {"修改项目", "edit"},
	EventSubmit:            {"提交", "submit"},
	EventPass:              {"通过初审", "pass screening"},
	EventOverride:          {"一事一议通过", "override (一事一议)"},
	EventReturn:            {"退回修改", "return for revision"},
	EventResubmit:          {"重新提交", "resubmit"},
	EventWithdraw:          {"撤回", "withdraw"},
	EventScore:             {"评分", "score"},
	EventConflict:          {"声明回避", "declare conflict"},
	EventRecommend:         {"推荐至管委会", "recommend to committee"},
	EventFailReview:        {"评审未通过", "fail expert review"},
	EventApprove:           {"批准", "approve"},
	EventReject:            {"否决", "reject"},
	EventSign:              {"签约", "sign"},
	EventStartConstruction: {"开工", "start construction"},
	EventStartProduction:   {"投产", "start production"},
	EventRate:              {"亩均效益评价", "annual rating"},
	EventRectify:           {"限期整改", "order rectification"},
	EventRectified:         {"整改通过", "rectification passed"},
	EventExit:              {"退出", "exit"},
	"upload":               {"上传文件", "upload"},
	EventAgreement:         {"录入投资协议", "record agreement"},
	EventMilestone:         {"登记节点", "record milestone"},
	EventFigures:           {"填报年度数据", "enter annual figures"},
	EventImport:            {"导入年度数据", "import annual figures"},
	EventPlan:              {"提交整改方案", "submit rectification plan"},
	"figures":              {"填报年度数据", "enter annual figures"},
	"plan":                 {"提交整改方案", "submit rectification plan"},
	"read":                 {"查看", "read"},
	"export":               {"导出", "export"},
	"verify":               {"校验", "verify"},
	"manage":               {"管理", "manage"},
}

var roleLabels = map[Role][2]string{
	RolePromoter:  {"招商专员", "Promoter"},
	RoleReviewer:  {"评审专家", "Reviewer"},
	RoleCommittee: {"管委会", "Committee"},
	RoleAuditor:   {"审计/纪检", "Auditor"},
	RoleAdmin:     {"系统管理员", "Administrator"},
}

func pick(l [2]string, lang, fallback string) string {
	if l[0] == "" {
		return fallback
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// StateLabel names a state in lang ("en" or zh-CN).
func StateLabel(s State, lang string) string { return pick(stateLabels[s], lang, string(s)) }

// EventLabel names an event or action in lang.
func EventLabel(ev, lang string) string { return pick(eventLabels[ev], lang, ev) }

// addEventLabels adds the labels of events defined beside the code that
// writes them (the log's own, account administration); the lifecycle's own
// labels above win.
func addEventLabels(labels map[string][2]string) {
	for ev, l := range labels {
		if _, ok := eventLabels[ev]; !ok {
			eventLabels[ev] = l
		}
	}
}

// RoleLabel names a role in lang.
func RoleLabel(r Role, lang string) string { return pick(roleLabels[r], lang, string(r)) }
