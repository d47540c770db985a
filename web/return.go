package web

import (
	"strings"

	"zonevet/engine"
)

// 退回 with a target on the project page: the return form's checklist of
// what to fix, and the latest return's list with the figures changed since
// the returned version (before → after).

// returnTarget is one item of the return form's checklist.
type returnTarget struct {
	ID, Label string
}

// figureChange is one figure changed since the returned version.
type figureChange struct {
	Name, Before, After string
}

// returnView is the latest return as the project page shows it.
type returnView struct {
	Note    *engine.ReturnNote
	Fix     []string // the items' labels
	Changes []figureChange
}

// targetLabel names a return target ("figure:<field>" or "document:<kind>") in lang.
func (s *Server) targetLabel(id, lang string) string {
	kind, name, _ := strings.Cut(id, ":")
	if kind == "document" {
		return s.i18n.T(lang, "doc."+name, nil)
	}
	return s.i18n.T(lang, "field."+name, nil)
}

func (s *Server) returnTargets(lang string) []returnTarget {
	out := make([]returnTarget, 0, len(engine.ReturnTargets))
	for _, id := range engine.ReturnTargets {
		out = append(out, returnTarget{ID: id, Label: s.targetLabel(id, lang)})
	}
	return out
}

// returnViewOf builds the page's view of n against the project's figures now.
func (s *Server) returnViewOf(n *engine.ReturnNote, p *engine.Project, lang string) *returnView {
	if n == nil {
		return nil
	}
	v := &returnView{Note: n}
	for _, id := range n.Fix {
		v.Fix = append(v.Fix, s.targetLabel(id, lang))
	}
	after := figureRows(p.Figures)
	for i, b := range figureRows(n.Returned) {
		if a := after[i]; a.Value != b.Value {
			v.Changes = append(v.Changes, figureChange{Name: b.Name, Before: shown(b, lang, s), After: shown(a, lang, s)})
		}
	}
	return v
}

// shown is a figure's value as the page writes it, with its unit.
func shown(r figureRow, lang string, s *Server) string {
	switch {
	case r.Blank:
		return s.i18n.T(lang, "figure.blank", nil)
	case r.Flag && r.Yes:
		return s.i18n.T(lang, "yes", nil)
	case r.Flag:
		return s.i18n.T(lang, "no", nil)
	}
	unit := r.Unit
	if lang == "en" && r.UnitEN != "" {
		unit = r.UnitEN
	}
	return strings.TrimSpace(r.Value + " " + unit)
}
