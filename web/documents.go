package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

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
		return s.actionFailed(c, id, engine.Errorf(engine.EFORBIDDEN, "您不能为该项目上传文件", "you may not upload documents to this project"), nil)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.actionFailed(c, id, s.errTooLarge(c), nil)
		}
		return s.actionFailed(c, id, engine.FieldError("file", "请选择要上传的文件", "choose a file to upload"), nil)
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
		return s.actionFailed(c, id, engine.FieldError("file", "只接受 PDF、PNG、JPEG 或 Office(docx/xlsx)文件", "only PDF, PNG, JPEG or Office (docx/xlsx) files are accepted"), nil)
	}
	stored := randomToken()
	tmp, err := os.CreateTemp(s.cfg.DocsDir, ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), io.MultiReader(bytes.NewReader(head[:n]), src))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.cfg.DocsDir, stored)); err != nil {
		return err
	}
	d := &engine.Document{Kind: c.FormValue("kind"), FileName: filepath.Base(fh.Filename), StoredName: stored,
		MediaType: media, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	if err := s.svc.AddDocument(ctx, u, id, d); err != nil {
		_ = os.Remove(filepath.Join(s.cfg.DocsDir, stored))
		return s.actionFailed(c, id, err, nil)
	}
	s.flash(c, true, s.t(c, "flash.uploaded"))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/projects/%d#documents", id))
}

func (s *Server) tooBig() error {
	mb := strconv.FormatInt(s.cfg.MaxUpload>>20, 10)
	return engine.FieldError("file", "文件不能超过 "+mb+" MB", "the file may not exceed "+mb+" MB")
}

// handleDocumentDownload serves a file to whoever may read its project, as an
// attachment with its sniffed type, so a browser never renders it inline as ours.
func (s *Server) handleDocumentDownload(c echo.Context) error {
	id, err := projectID(c)
	if err != nil {
		return err
	}
	docID, err := strconv.ParseInt(c.Param("doc"), 10, 64)
	if err != nil {
		return engine.Errorf(engine.ENOTFOUND, "文件不存在", "document not found")
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
