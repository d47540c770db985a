package rules

// CommitteeRules are the numbers of a committee meeting (集体决策): the share
// of the park's committee members that must be present (quorum), and the
// share of the members present and entitled to vote on an item (not
// conflicted with it) whose 同意 carries it. Each share is a fraction
// [numerator, denominator].
type CommitteeRules struct {
	// Quorum: present × den ≥ members × num; default 2/3 (应到会成员三分之二以上出席).
	Quorum [2]int `yaml:"quorum" json:"quorum"`
	// Majority: approve when yes × den > voters × num; default 1/2 (过半数同意).
	Majority [2]int `yaml:"majority" json:"majority"`
}

// DefaultCommitteeRules are the rules when a rule set names none.
var DefaultCommitteeRules = CommitteeRules{Quorum: [2]int{2, 3}, Majority: [2]int{1, 2}}

// Committee returns the committee's meeting rules (the defaults if the rule set has none).
func (rs *RuleSet) Committee() CommitteeRules {
	if c := rs.spec.Committee; c != nil && c.Quorum[1] > 0 && c.Majority[1] > 0 {
		return *c
	}
	return DefaultCommitteeRules
}

// QuorumMet reports whether present of members make a quorum.
func (c CommitteeRules) QuorumMet(present, members int) bool {
	return members > 0 && present*c.Quorum[1] >= members*c.Quorum[0]
}

// QuorumNeeded is the fewest members present that make a quorum of members.
func (c CommitteeRules) QuorumNeeded(members int) int {
	return (members*c.Quorum[0] + c.Quorum[1] - 1) / c.Quorum[1]
}

// Carried reports whether yes votes of voters carry the item.
func (c CommitteeRules) Carried(yes, voters int) bool {
	return voters > 0 && yes*c.Majority[1] > voters*c.Majority[0]
}
