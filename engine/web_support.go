package engine

import (
	"context"
	"strings"

	"zonevet/rules"
)

// This file holds the few commands the web needs beyond the lead's Service
// API: documents, the rule set a project was screened under, and whether a
// user holds a role somewhere. Each authorizes like the rest of Service: the
// park comes from the stored project, never from the request.

// DocumentKinds are the kinds of file a project may carry, in form order.
var DocumentKinds = []string{"feasibility", "environmental", "energy", "agreement", "milestone", "minutes", "other"}

// AddDocument records a file already written by the caller (the bytes live
// outside the database) and logs the upload in the decision log, so the log
// says which evidence was on file when a decision was made.
func (s *Service) AddDocument(ctx context.Context, u *User, projectID int64, d *Document) error {
	p, err := s.Project(ctx, u, projectID)
	if err != nil {
		return err
	}
	a, err := s.authorize(u, p.Park, "project", "upload")
	if err != nil {
		return err
	}
	if p.State.Terminal() {
		return Fail(ECONFLICT, "err.project_is_closed_no_more_uploads", Args{"State": stateArg(p.State)})
	}
	if !contains(DocumentKinds, d.Kind) {
		return FieldFail("kind", "err.choose_kind_of_document", nil)
	}
	d.FileName = strings.TrimSpace(d.FileName)
	if d.FileName == "" || len([]rune(d.FileName)) > 200 {
		return FieldFail("file", "err.file_name_must_be_1_200", nil)
	}
	d.ProjectID, d.UploadedBy, d.UploadedAt = p.ID, u.Username, s.now().UTC()
	// The row and its entry in one transaction: a crash leaves both or
	// neither, never a document the log does not know.
	e := s.entry(a, p, "upload", p.State, p.State)
	e.Reason = label("doc", d.Kind, "zh") + ":" + d.FileName
	return s.store.Apply(ctx, &Change{Document: d, Entry: e})
}

// Documents lists the files of a project u may read.
func (s *Service) Documents(ctx context.Context, u *User, projectID int64) ([]Document, error) {
	p, err := s.Project(ctx, u, projectID)
	if err != nil {
		return nil, err
	}
	return s.store.Documents(ctx, p.ID)
}

// Document returns one file's record if u may read its project; a document
// of a project u cannot see is not_found, like the project itself.
func (s *Service) Document(ctx context.Context, u *User, projectID, docID int64) (*Document, error) {
	d, err := s.store.Document(ctx, docID)
	if err != nil {
		return nil, err
	}
	if d.ProjectID != projectID {
		return nil, Fail(ENOTFOUND, "err.document_not_found", nil)
	}
	p, err := s.Project(ctx, u, projectID)
	if err != nil {
		return nil, err
	}
	// A sharee's download is a read of the project, logged with the document.
	if err := s.noteRead(ctx, u, p, payload(map[string]any{"document": d.ID, "file_name": d.FileName})); err != nil {
		return nil, err
	}
	return d, nil
}

// CanUpload reports whether u may attach files to p now.
func (s *Service) CanUpload(u *User, p *Project) bool {
	return u != nil && !p.State.Terminal() && s.authz.Allowed(u.Username, p.Park, "project", "upload")
}

// CanCreate reports whether u may register projects in park.
func (s *Service) CanCreate(u *User, park string) bool {
	return u != nil && s.authz.Allowed(u.Username, park, "project", "create")
}

// ProjectRuleSet returns the rule set p was screened under, or its park's
// active one before its first screening: the scoring sheet a reviewer fills
// in must be the one the project is judged by.
func (s *Service) ProjectRuleSet(ctx context.Context, p *Project) (*rules.RuleSet, error) {
	return s.projectRuleSet(ctx, p)
}

// RolesIn lists the roles u holds in park.
func (s *Service) RolesIn(u *User, park string) []Role {
	if u == nil {
		return nil
	}
	return s.authz.RolesIn(u.Username, park)
}
