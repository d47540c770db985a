package main

import (
	"fmt"

	"zonevet/engine"
)

// demoExperts are qingyuan's expert pool (专家库) of twenty: the three demo
// reviewers and seventeen experts from universities, institutes and firms,
// each with the industry codes (GB/T 4754 prefixes) they cover. One works
// for an investor of a demo project and one declared a tie to another, so
// the draws show conflicts excluded; one is inactive; a few carry a load limit.
var demoExperts = []struct {
	name, display, employer, employerUSCC string
	fields                                []string
	relations                             []string
	load                                  int
	inactive                              bool
}{
	{"reviewer1", "王评审", "清远高新区管委会专家咨询委员会", "", []string{"C39", "C38"}, nil, 0, false},
	{"reviewer2", "赵评审", "广东工业大学", "", []string{"C34", "C35"}, nil, 0, false},
	{"reviewer3", "钱评审", "华南理工大学", "", []string{"C26", "C27", "C29"}, nil, 0, false},
	{"expert01", "陈建国", "华南理工大学材料科学与工程学院", "", []string{"C26", "C29", "C30"}, nil, 3, false},
	{"expert02", "林晓峰", "广东省电子信息产业研究院", "", []string{"C39"}, nil, 3, false},
	{"expert03", "黄丽萍", "中山大学药学院", "", []string{"C27", "C358"}, nil, 2, false},
	{"expert04", "刘志强", "广东省机械研究所", "", []string{"C34", "C35"}, nil, 0, false},
	{"expert05", "杨文静", "清远职业技术学院", "", []string{"C33", "C34"}, nil, 0, false},
	{"expert06", "吴海涛", "广东省科学院新材料研究所", "", []string{"C26", "C30", "C32"}, nil, 0, false},
	{"expert07", "周明华", "清远华科新材料股份有限公司", "91441800MA53CX9A", []string{"C39", "C32"}, nil, 0, false},
	{"expert08", "徐婷", "暨南大学经济学院", "", []string{"C"}, nil, 2, false},
	{"expert09", "孙立伟", "广州智能装备研究院", "", []string{"C34", "C38", "C40"}, nil, 0, false},
	{"expert10", "马晓东", "广东省节能中心", "", []string{"C25", "C26", "C30"}, []string{"91441800MA5F2R3P"}, 0, false},
	{"expert11", "朱红梅", "华南师范大学", "", []string{"C39", "C40"}, nil, 0, false},
	{"expert12", "胡志军", "广东省生物医药创新研究院", "", []string{"C27", "C35"}, nil, 0, false},
	{"expert13", "郭振华", "广东省建筑材料研究院", "", []string{"C30", "C31"}, nil, 0, true},
	{"expert14", "何雪梅", "广州市会计师事务所", "", []string{"C"}, nil, 0, false},
	{"expert15", "高建新", "广东电网清远供电局", "", []string{"C38", "D44"}, nil, 0, false},
	{"expert16", "罗勇", "广东省半导体产业技术研究院", "", []string{"C39", "C397"}, nil, 0, false},
	{"expert17", "梁静怡", "清远市生态环境局环境监测站", "", []string{"C22", "C26", "C29"}, nil, 0, false},
}

// seedExpertPool creates the pool's new reviewer accounts and adds all
// twenty to qingyuan's pool by the administrator, each a logged change.
func (d *demo) seedExpertPool(create func(name, display string) (*engine.User, error)) error {
	for _, x := range demoExperts {
		if d.users[x.name] == nil {
			u, err := create(x.name, x.display)
			if err != nil {
				return fmt.Errorf("expert account %s: %w", x.name, err)
			}
			d.users[x.name] = u
		}
		emp := x.employerUSCC
		if emp != "" {
			emp = uscc(emp)
		}
		var rel []string
		for _, r := range x.relations {
			rel = append(rel, uscc(r))
		}
		if _, err := d.svc.SaveExpert(d.ctx, d.users["admin"], engine.ExpertInput{Park: "qingyuan", Username: x.name, Name: x.display,
			Fields: x.fields, EmployerName: x.employer, EmployerUSCC: emp, Relations: rel, LoadLimit: x.load, Active: !x.inactive}); err != nil {
			return fmt.Errorf("expert %s: %w", x.name, err)
		}
	}
	return nil
}

// drawnScorers are the first n experts drawn for p's round, when its
// reviewers were drawn from a pool; otherwise the step's own scorers.
func (d *demo) drawnScorers(p *engine.Project, scorers []string) ([]string, error) {
	ds, _, err := d.svc.ProjectDraw(d.ctx, d.users["admin"], p.ID)
	if err != nil || len(ds) == 0 {
		return scorers, err
	}
	var out []string
	for _, x := range ds {
		if !x.Recused && len(out) < len(scorers) {
			out = append(out, x.Username)
		}
	}
	return out, nil
}
