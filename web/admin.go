package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
	"zonevet/rules/catalog"
)

// Account administration (admin role): who may sign in, with which roles
// in which park. Every change is a decision-log entry (engine/admin.go).
func (s *Server) registerAdminRoutes(e *echo.Echo) {
	g := e.Group("/admin", requireUser)
	g.GET("/users", s.handleAccounts)
	g.POST("/users", s.handleAccountCreate)
	g.GET("/users/:id", s.handleAccount)
	g.POST("/users/:id/roles", s.handleAccountRoles)
	g.POST("/users/:id/status", s.handleAccountStatus)
	g.POST("/users/:id/password", s.handleAccountPassword)
	g.POST("/users/:id/department", s.handleAccountDepartment)
}

// CanAdmin reports whether the page's user administers some park (the nav
// shows the users and rule-set links; the policy grants both to admin).
func (p *page) CanAdmin() bool {
	if p.User == nil {
		return false
	}
	parks, err := p.s.svc.AdminParks(context.Background(), p.User)
	return err == nil && len(parks) > 0
}

type accountsData struct {
	Accounts  []engine.Account
	Parks     []engine.Park // the parks this admin manages
	ParkNames map[string]string
	Roles     []engine.Role
	Form      accountForm
	Error     string
}

// accountForm is the new-user form as typed, shown again on an error
// (without the password).
type accountForm struct {
	Username, DisplayName, Park string
	Roles                       map[engine.Role]bool
}

func (s *Server) accountsPage(c echo.Context, status int, d accountsData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	var err error
	if d.Accounts, err = s.svc.Accounts(ctx, u); err != nil {
		return err
	}
	if d.Parks, err = s.svc.AdminParks(ctx, u); err != nil {
		return err
	}
	if d.ParkNames, err = s.allParkNames(c); err != nil {
		return err
	}
	d.Roles = engine.Roles
	pd := s.page(c, s.t(c, "page.admin_go.users_and_roles"))
	pd.Data = d
	return s.render(c, status, "admin_users", pd)
}

func (s *Server) handleAccounts(c echo.Context) error {
	return s.accountsPage(c, http.StatusOK, accountsData{})
}

func (s *Server) handleAccountCreate(c echo.Context) error {
	form, _ := c.FormParams()
	in := engine.NewAccount{Username: c.FormValue("username"), DisplayName: c.FormValue("display_name"),
		Password: c.FormValue("password"), Park: c.FormValue("park"), Roles: formRoles(form["role"]), Department: c.FormValue("department")}
	u, err := s.svc.CreateAccount(c.Request().Context(), currentUser(c), in)
	if code := engine.ErrorCode(err); code == engine.EINVALID || code == engine.ECONFLICT {
		f := accountForm{Username: in.Username, DisplayName: in.DisplayName, Park: in.Park, Roles: map[engine.Role]bool{}}
		for _, r := range in.Roles {
			f.Roles[r] = true
		}
		status := http.StatusBadRequest
		if code == engine.ECONFLICT {
			status = http.StatusConflict
		}
		return s.accountsPage(c, status, accountsData{Form: f, Error: s.refusalMessage(c, err)})
	} else if err != nil {
		return err
	}
	s.flash(c, true, s.i18n.T(s.lang(c), "flash.user_created", catalog.Args{"Name": u.Username}))
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}

type accountData struct {
	Account   *engine.Account
	Parks     []engine.Park // the parks this admin manages
	ParkNames map[string]string
	Held      map[string]map[engine.Role]bool // park → role → held, for the checkboxes
	Roles     []engine.Role
	Self      bool
	// Department is the department form's value: the account's, or what
	// the admin typed when the change was refused (DepartmentError).
	Department, DepartmentError string
}

func (s *Server) handleAccount(c echo.Context) error {
	id, err := accountID(c)
	if err != nil {
		return err
	}
	return s.accountPage(c, http.StatusOK, id, nil)
}

// accountPage shows one account; typed, when given, is the department
// form as the admin sent it, shown again with its refusal.
func (s *Server) accountPage(c echo.Context, status int, id int64, typed *accountData) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	acc, err := s.svc.Account(ctx, u, id)
	if err != nil {
		return err
	}
	parks, err := s.svc.AdminParks(ctx, u)
	if err != nil {
		return err
	}
	names, err := s.allParkNames(c)
	if err != nil {
		return err
	}
	held := map[string]map[engine.Role]bool{}
	for park, rs := range acc.Roles {
		held[park] = map[engine.Role]bool{}
		for _, r := range rs {
			held[park][r] = true
		}
	}
	d := accountData{Account: acc, Parks: parks, ParkNames: names, Held: held, Roles: engine.Roles, Self: acc.User.ID == u.ID,
		Department: acc.User.Department}
	if typed != nil {
		d.Department, d.DepartmentError = typed.Department, typed.DepartmentError
	}
	pd := s.page(c, acc.User.Username)
	pd.Data = d
	return s.render(c, status, "admin_user", pd)
}

// handleAccountDepartment moves an account to another department. The form
// carries the department it showed (before): if someone changed it since,
// the page comes back 409 with what the admin typed, to check and send again.
func (s *Server) handleAccountDepartment(c echo.Context) error {
	id, err := accountID(c)
	if err != nil {
		return err
	}
	to := c.FormValue("department")
	err = s.svc.SetDepartment(c.Request().Context(), currentUser(c), id, c.FormValue("before"), to)
	switch code := engine.ErrorCode(err); code {
	case "":
		s.flash(c, true, s.t(c, "page.verbs2.department_saved"))
		return c.Redirect(http.StatusSeeOther, "/admin/users/"+strconv.FormatInt(id, 10)+"#department")
	case engine.EINVALID, engine.ECONFLICT:
		status := http.StatusBadRequest
		if code == engine.ECONFLICT {
			status = http.StatusConflict
		}
		return s.accountPage(c, status, id, &accountData{Department: to, DepartmentError: s.refusalMessage(c, err)})
	}
	return err
}

func (s *Server) handleAccountRoles(c echo.Context) error {
	id, err := accountID(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	err = s.svc.SetRoles(c.Request().Context(), currentUser(c), id, c.FormValue("park"), formRoles(form["role"]))
	return s.accountDone(c, err, id, catalog.Message{ID: "flash.roles_updated"})
}

func (s *Server) handleAccountStatus(c echo.Context) error {
	id, err := accountID(c)
	if err != nil {
		return err
	}
	var disabled bool
	switch c.FormValue("disabled") {
	case "1":
		disabled = true
	case "0":
	default:
		return engine.FieldFail("disabled", "err.choose_enable_or_disable", nil)
	}
	err = s.svc.SetDisabled(c.Request().Context(), currentUser(c), id, disabled)
	if disabled {
		return s.accountDone(c, err, id, catalog.Message{ID: "flash.account_disabled"})
	}
	return s.accountDone(c, err, id, catalog.Message{ID: "flash.account_enabled"})
}

func (s *Server) handleAccountPassword(c echo.Context) error {
	id, err := accountID(c)
	if err != nil {
		return err
	}
	if p, again := c.FormValue("password"), c.FormValue("password_again"); p != again {
		err = engine.FieldFail("password_again", "err.two_passwords_differ", nil)
	} else {
		err = s.svc.ResetPassword(c.Request().Context(), currentUser(c), id, p)
	}
	return s.accountDone(c, err, id, catalog.Message{ID: "flash.password_reset"})
}

// accountDone finishes a change to one account like done does for
// tracking: a refusal the admin can fix comes back as a message on the
// account's page, naming the field; the rest are errors with their status.
func (s *Server) accountDone(c echo.Context, err error, id int64, ok catalog.Message) error {
	switch engine.ErrorCode(err) {
	case "":
		s.flash(c, true, s.i18n.T(s.lang(c), ok.ID, ok.Args))
	case engine.EINVALID, engine.ECONFLICT:
		s.flash(c, false, s.refusalMessage(c, err))
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+strconv.FormatInt(id, 10))
}

// refusalMessage is an invalid or conflict error of an admin form as the
// admin reads it: the field's name, then what is wrong.
func (s *Server) refusalMessage(c echo.Context, err error) string {
	lang := s.lang(c)
	msg := engine.ErrorMessage(err, lang)
	var de *engine.Error
	if errors.As(err, &de) && de.Field != "" {
		// the admin forms' fields: afield.<name> in locales/i18n.*.json
		if id := "afield." + de.Field; s.i18n.Has(id) {
			msg = s.i18n.T(lang, id, nil) + ":" + msg
		}
	}
	return msg
}

// allParkNames names every park in the page's language: an account may
// hold roles in parks this admin does not manage.
func (s *Server) allParkNames(c echo.Context) (map[string]string, error) {
	all, err := s.svc.AllParks(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return s.parkNames(all, s.lang(c)), nil
}

func accountID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, engine.Fail(engine.ENOTFOUND, "err.user_not_found", nil)
	}
	return id, nil
}

func formRoles(vals []string) []engine.Role {
	var out []engine.Role
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, engine.Role(v))
		}
	}
	return out
}
