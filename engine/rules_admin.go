package engine

import (
	"context"
	"errors"
	"fmt"

	"zonevet/rules"
)

// EventRulesInstall is an administrator putting a rule-set version in force
// for a park: a new text or an earlier version again. Projects already
// screened keep the version their report names; new submissions get this one.
const EventRulesInstall = "rules_install"

// RuleSetAdminStore lists a park's rule-set versions and installs one with
// its log entry in one transaction.
type RuleSetAdminStore interface {
	RuleSets(ctx context.Context, park string) ([]RuleSetRecord, error)
	InstallRuleSet(ctx context.Context, rs RuleSetRecord, e *AuditEntry) error
}

func (s *Service) ruleSetAdmin() (RuleSetAdminStore, error) {
	st, ok := s.store.(RuleSetAdminStore)
	if !ok {
		return nil, Fail(EINTERNAL, "err.store_does_not_support_rule_set", nil)
	}
	return st, nil
}

// RuleSetVersions lists a park's stored rule-set versions, newest first.
func (s *Service) RuleSetVersions(ctx context.Context, u *User, park string) ([]RuleSetRecord, error) {
	st, err := s.ruleSetAdmin()
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(u, park, "rules", "manage"); err != nil {
		return nil, err
	}
	return st.RuleSets(ctx, park)
}

// RuleSetSource returns one stored version for an admin of its park to read.
func (s *Service) RuleSetSource(ctx context.Context, u *User, version string) (RuleSetRecord, error) {
	rec, err := s.store.RuleSet(ctx, version)
	if err != nil {
		return rec, err
	}
	if _, err := s.authorize(u, rec.Park, "rules", "manage"); err != nil {
		return RuleSetRecord{}, err
	}
	return rec, nil
}

// UploadRuleSet validates a rule-set file and puts it in force for park.
// A file with mistakes is refused whole, every mistake listed (rules'
// *ValidationError, for the page to show); a file for another park is
// refused too, because a version must belong to exactly one park.
func (s *Service) UploadRuleSet(ctx context.Context, u *User, park, filename string, src []byte) (*rules.RuleSet, error) {
	a, err := s.authorize(u, park, "rules", "manage")
	if err != nil {
		return nil, err
	}
	if len(src) == 0 {
		return nil, FieldFail("file", "err.choose_rule_set_file", nil)
	}
	rs, err := rules.Parse(filename, src)
	var ve *rules.ValidationError
	if errors.As(err, &ve) {
		return nil, ve
	} else if err != nil {
		return nil, FieldFail("file", "err.rule_set_unreadable", Args{"Detail": err.Error()})
	}
	if rs.Park() != park {
		return nil, FieldFail("file", "err.file_is_for_park_not", Args{"Park": fmt.Sprintf("%q", rs.Park()), "Park2": fmt.Sprintf("%q", park)})
	}
	return rs, s.installLogged(ctx, a, rs)
}

// ActivateRuleSet puts an earlier stored version back in force (a rollback).
func (s *Service) ActivateRuleSet(ctx context.Context, u *User, version string) (*rules.RuleSet, error) {
	rec, err := s.store.RuleSet(ctx, version)
	if err != nil {
		return nil, err
	}
	a, err := s.authorize(u, rec.Park, "rules", "manage")
	if err != nil {
		return nil, err
	}
	rs, err := s.parsedRuleSet(rec)
	if err != nil {
		return nil, err
	}
	return rs, s.installLogged(ctx, a, rs)
}

// installLogged puts rs in force for its park, as a, authorized by the caller.
func (s *Service) installLogged(ctx context.Context, a actor, rs *rules.RuleSet) error {
	st, err := s.ruleSetAdmin()
	if err != nil {
		return err
	}
	before := ""
	if cur, err := s.store.ActiveRuleSet(ctx, rs.Park()); err == nil {
		before = cur.Version
	} else if ErrorCode(err) != ENOTFOUND {
		return err
	}
	if before == rs.Version() {
		return Fail(ECONFLICT, "err.this_version_is_already_in_force", nil)
	}
	e := AuditEntry{Time: s.now().UTC(), Actor: a.user.Username, Role: a.role, Park: rs.Park(), Event: EventRulesInstall,
		RuleSetVersion: rs.Version(), Reason: fmt.Sprintf("%s 规则集启用版本 %.12s(原 %.12s)", rs.Park(), rs.Version(), before),
		Payload: payload(map[string]any{"park": rs.Park(), "version": rs.Version(), "before": before})}
	rec := RuleSetRecord{Park: rs.Park(), Version: rs.Version(), Source: rs.Source(), Active: true, CreatedAt: s.now().UTC()}
	if err := st.InstallRuleSet(ctx, rec, &e); err != nil {
		return err
	}
	s.mu.Lock()
	s.ruleSets[rs.Version()] = rs
	s.mu.Unlock()
	return nil
}
