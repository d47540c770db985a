package web

import "github.com/labstack/echo/v4"

// registerAuditRoutes registers the auditor's pages (issue 4).
func (s *Server) registerAuditRoutes(e *echo.Echo) {}
