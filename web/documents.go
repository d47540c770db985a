package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// allowedMedia are the document types accepted, as sniffed from the bytes
// (never the browser's claim or the file name): PDF, images of scans, and
// zip containers (docx, xlsx).
var allowedMedia = map[string]bool{
	"application/pdf": true,
	"image/png":       true,
	"image/jpeg":      true,
	"application/zip": true,
}

// handleDocumentUpload stores an uploaded file under a random server-chosen
// name in DocsDir, outside any static path, and records its SHA-256.
func (s *Server) handleDocumentUpload(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := projectID(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	p, err := s.svc.Project(ctx, u, id)
	if err != nil {
		return err
	}
	if !s.svc.CanUpload(u, p) {
		return s.actionFailed(c, id, engine.Fail(engine.EFORBIDDEN, "err.you_may_not_upload_documents_to", nil), nil)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.actionFailed(c, id, s.errTooLarge(c), nil)
		}
		return s.actionFailed(c, id, engine.FieldFail("file", "err.choose_file_to_upload", nil), nil)
	}
	if fh.Size > s.cfg.MaxUpload {
		return s.actionFailed(c, id, s.errTooLarge(c), nil)
	}
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(src, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	media := http.DetectContentType(head[:n])
	if mt, _, err := mime.ParseMediaType(media); err == nil {
		media = mt
	}
	if !allowedMedia[media] {
		return s.actionFailed(c, id, engine.FieldFail("file", "err.only_pdf_png_jpeg_or_office", nil), nil)
	}
	d := &engine.Document{Kind: c.FormValue("kind"), FileName: filepath.Base(fh.Filename), StoredName: randomToken(), MediaType: media}
	if err := s.storeDocument(d, io.MultiReader(bytes.NewReader(head[:n]), src)); err != nil {
		return err
	}
	if err := s.svc.AddDocument(ctx, u, id, d); err != nil {
		s.removeDocumentFile(d.StoredName)
		return s.actionFailed(c, id, err, nil)
	}
	s.flash(c, true, s.t(c, "flash.uploaded"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d#documents", id))
}

// storeDocument writes the file's bytes under d.StoredName and sets its size
// and SHA-256. The bytes go to a temporary name first, are synced, renamed,
// and the directory synced, so that once the caller commits the row the file
// is on disk whole under its name. A crash before the rename leaves a
// temporary file, one after it a file no row names: SweepOrphanDocuments
// clears both at the next start.
func (s *Server) storeDocument(d *engine.Document, r io.Reader) error {
	dir := s.cfg.DocsDir
	tmp, err := os.CreateTemp(dir, uploadTempPrefix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, d.StoredName)); err != nil {
		return fmt.Errorf("write document: %w", err)
	}
	if err := syncDir(dir); err != nil {
		s.removeDocumentFile(d.StoredName)
		return fmt.Errorf("write document: %w", err)
	}
	d.Size, d.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	return nil
}

// removeDocumentFile deletes a file whose row did not commit.
func (s *Server) removeDocumentFile(stored string) {
	if err := os.Remove(filepath.Join(s.cfg.DocsDir, filepath.Base(stored))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("remove uncommitted document", "file", stored, "err", err)
	}
}

// syncDir makes a rename in dir durable: the new name is in the directory
// itself, which the file's own fsync does not reach.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// uploadTempPrefix names a document still being written.
const uploadTempPrefix = ".upload-"

// orphanDir, inside the documents folder, keeps the files that no document
// row names, moved aside at start rather than deleted: a file is evidence,
// and an operator who restored the wrong database should get it back.
const orphanDir = ".orphans"

// SweepOrphanDocuments tidies the documents folder before serving: files
// still being written when the process died (temporary names) are removed,
// and files no row in stored names (written and renamed, but the row never
// committed) are moved into .orphans. It returns both counts. Hidden files
// (names starting with a dot) other than uploads are left alone: they belong
// to other features (an import waiting for confirmation).
func SweepOrphanDocuments(dir string, stored []string) (removed, orphaned int, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	} else if err != nil {
		return 0, 0, fmt.Errorf("sweep documents: %w", err)
	}
	known := make(map[string]bool, len(stored))
	for _, n := range stored {
		known[filepath.Base(n)] = true
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		switch {
		case strings.HasPrefix(name, uploadTempPrefix):
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return removed, orphaned, fmt.Errorf("sweep documents: %w", err)
			}
			removed++
		case strings.HasPrefix(name, ".") || known[name]:
		default:
			if err := os.MkdirAll(filepath.Join(dir, orphanDir), 0o750); err != nil {
				return removed, orphaned, fmt.Errorf("sweep documents: %w", err)
			}
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, orphanDir, name)); err != nil {
				return removed, orphaned, fmt.Errorf("sweep documents: %w", err)
			}
			orphaned++
		}
	}
	if removed+orphaned > 0 {
		err = syncDir(dir)
	}
	return removed, orphaned, err
}

// tooBig is the answer to an uploaded file over the limit that a page shows
// beside its form: the same words as the 413 for a body over the limit, and
// the same status (importFailed sends it), never an authorization refusal.
func (s *Server) tooBig() error {
	mb := strconv.FormatInt(s.cfg.MaxUpload>>20, 10)
	return fileTooBig{engine.FieldFail("file", "err.file_too_large", engine.Args{"MB": mb})}
}

// fileTooBig marks an upload refused for its size (HTTP 413).
type fileTooBig struct{ err *engine.Error }

func (e fileTooBig) Error() string { return e.err.Error() }
func (e fileTooBig) Unwrap() error { return e.err }

// handleDocumentDownload serves a file to whoever may read its project, as an
// attachment with its sniffed type, so a browser never renders it inline as ours.
func (s *Server) handleDocumentDownload(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	docID, err := strconv.ParseInt(c.Param("doc"), 10, 64)
	if err != nil {
		return engine.Fail(engine.ENOTFOUND, "err.document_not_found", nil)
	}
	d, err := s.svc.Document(c.Request().Context(), currentUser(c), id, docID)
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(s.cfg.DocsDir, filepath.Base(d.StoredName)))
	if err != nil {
		return fmt.Errorf("open document %d: %w", d.ID, err)
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.FileName}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	return c.Stream(http.StatusOK, d.MediaType, f)
}
