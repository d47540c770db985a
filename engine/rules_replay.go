package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"zonevet/rules"
)

// ScreeningReplayCheck is an auditor's check that a project's stored
// screening was not edited: its latest submit entry's figures re-screened
// under the version the entry names must give back the entry's basis byte
// for byte.
type ScreeningReplayCheck struct {
	ProjectID      int64  `json:"project_id"`
	Seq            int64  `json:"seq"` // the submit entry replayed
	RuleSetVersion string `json:"rule_set_version"`
	Same           bool   `json:"same"`
	StoredSHA256   string `json:"stored_sha256"`
	ReplaySHA256   string `json:"replay_sha256"`
	// FirstDiff is the byte offset of the first difference, -1 when Same.
	FirstDiff int `json:"first_diff"`
}

// ReplayScreening re-evaluates a project's latest screening from its
// stored inputs under its pinned version and compares the result with what
// the log holds (`zonevet rules replay PROJECT`; the dossier shows it).
func (s *Service) ReplayScreening(ctx context.Context, u *User, id int64) (*ScreeningReplayCheck, error) {
	p, err := s.store.Project(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, p.Park, "project", "read"); err != nil {
		return nil, err
	}
	return s.ReplayStoredScreening(ctx, id)
}

// ReplayStoredScreening is ReplayScreening for the operator's command line
// on the server, which reads the database without an account.
func (s *Service) ReplayStoredScreening(ctx context.Context, id int64) (*ScreeningReplayCheck, error) {
	es, err := s.store.AuditEntries(ctx, AuditFilter{ProjectID: id, Events: []string{EventSubmit, EventResubmit}})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, Fail(ENOTFOUND, "err.project_has_not_been", nil)
	}
	e := es[len(es)-1]
	var sub struct {
		Figures rules.Figures `json:"figures"`
		Report  *rules.Report `json:"report"`
	}
	if err := json.Unmarshal([]byte(e.Payload), &sub); err != nil || sub.Report == nil {
		return nil, Fail(EINVALID, "err.basis_submit_entry_cannot", Args{"Seq": e.Seq})
	}
	version := sub.Report.RuleSetVersion
	rs, err := s.RuleSetVersion(ctx, version)
	if err != nil {
		return nil, err
	}
	rep, err := evaluate(rs, sub.Figures)
	if err != nil {
		return nil, err
	}
	again := payload(submission{Figures: sub.Figures, Report: rep})
	out := &ScreeningReplayCheck{ProjectID: id, Seq: e.Seq, RuleSetVersion: version, StoredSHA256: sha(e.Payload), ReplaySHA256: sha(again), FirstDiff: -1}
	out.Same = again == e.Payload
	if !out.Same {
		n := min(len(again), len(e.Payload))
		out.FirstDiff = n
		for i := range n {
			if again[i] != e.Payload[i] {
				out.FirstDiff = i
				break
			}
		}
	}
	return out, nil
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
