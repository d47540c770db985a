package web

import (
	"fmt"
	"net/http"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
	"zonevet/store"
	"zonevet/store/storetest"
)

// otherProcess opens a second handle on w's database and a service on it:
// what the zonevet CLI, or a second node, changes behind the server's back.
func otherProcess(t *testing.T, w *world) (*store.DB, *engine.Service) {
	t.Helper()
	db, err := store.Open(w.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := engine.NewService(w.ctx, engine.Config{Store: db, Now: w.clock.now, PasswordHashing: storetest.PasswordHashing})
	if err != nil {
		t.Fatal(err)
	}
	return db, svc
}

// TestAuthSeesOtherProcess: a token revoked, a session ended, a role
// withdrawn or an account disabled by another process is refused on the
// very next request, however often the server has just served it.
func TestAuthSeesOtherProcess(t *testing.T) {
	w := mustWorld(t)
	other, otherSvc := otherProcess(t, w)
	warm := func(c *client, name string) {
		t.Helper()
		for range 3 {
			if rec := c.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusOK {
				t.Fatalf("%s before the change: %d %.200s", name, rec.Code, rec.Body)
			}
		}
	}

	t.Run("TokenRevoked", func(t *testing.T) {
		c := w.bearerFor("auditor", engine.APIToken{})
		warm(c, "token")
		toks, err := other.APITokens(w.ctx, w.users["auditor"].ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("%v %v", toks, err)
		}
		if err := other.RevokeAPIToken(w.ctx, w.users["auditor"].ID, toks[0].ID); err != nil {
			t.Fatal(err)
		}
		if rec := c.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("revoked token: %d, want 401", rec.Code)
		}
	})

	t.Run("SessionEnded", func(t *testing.T) {
		c := w.login("auditor")
		warm(c, "session")
		if err := other.DeleteUserSessions(w.ctx, w.users["auditor"].ID); err != nil {
			t.Fatal(err)
		}
		if rec := c.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("ended session: %d, want 401", rec.Code)
		}
	})

	t.Run("RoleWithdrawn", func(t *testing.T) {
		// The auditor reads the log of its park by token and by session;
		// another process takes the role away, then gives it back.
		tok, page := w.bearerFor("auditor", engine.APIToken{}), w.login("auditor")
		const entries = "/api/v1/audit/entries?park=" + ownPark + "&limit=1"
		for _, c := range []*client{tok, page, tok, page} {
			if rec := c.do("GET", entries, nil); rec.Code != http.StatusOK {
				t.Fatalf("before the change: %d %.200s", rec.Code, rec.Body)
			}
		}
		setRoles := func(roles ...engine.Role) {
			t.Helper()
			if err := otherSvc.SetRoles(w.ctx, w.users["admin"], w.users["auditor"].ID, ownPark, roles); err != nil {
				t.Fatal(err)
			}
		}
		setRoles()
		for name, c := range map[string]*client{"token": tok, "session": page} {
			if rec := c.do("GET", entries, nil); rec.Code != http.StatusForbidden {
				t.Errorf("%s after the role was withdrawn elsewhere: %d, want 403", name, rec.Code)
			}
		}
		setRoles(engine.RoleAuditor)
		for name, c := range map[string]*client{"token": tok, "session": page} {
			if rec := c.do("GET", entries, nil); rec.Code != http.StatusOK {
				t.Errorf("%s after the role was given back elsewhere: %d, want 200", name, rec.Code)
			}
		}
	})

	t.Run("AccountDisabled", func(t *testing.T) {
		tok, page := w.bearerFor("reviewer", engine.APIToken{}), w.login("reviewer")
		warm(tok, "token")
		warm(page, "session")
		if err := otherSvc.SetDisabled(w.ctx, w.users["admin"], w.users["reviewer"].ID, true); err != nil {
			t.Fatal(err)
		}
		if rec := tok.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("token of a disabled account: %d, want 401", rec.Code)
		}
		if rec := page.do("GET", "/api/v1/projects", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("session of a disabled account: %d, want 401", rec.Code)
		}
	})
}

// TestRuleSetAndCalendarSeeOtherProcess: a rule set put in force and a
// calendar approved by another process are what the server's very next
// submit screens with and its next move counts with, though it has used
// (and keeps, parsed) the ones before.
func TestRuleSetAndCalendarSeeOtherProcess(t *testing.T) {
	w := mustWorld(t)
	other, otherSvc := otherProcess(t, w)
	promoter := w.bearerFor("promoter", engine.APIToken{})
	submit := func() string {
		t.Helper()
		p := w.project(engine.StateDraft)
		rec := promoter.do("POST", fmt.Sprintf("/api/v1/projects/%d/actions", p.ID), map[string]any{"event": engine.EventSubmit, "version": p.Version})
		if rec.Code != http.StatusOK {
			t.Fatalf("submit: %d %.300s", rec.Code, rec.Body)
		}
		got := decode[engine.Project](t, rec.Body.Bytes())
		if got.Report == nil {
			t.Fatalf("submit answered without a report: %.300s", rec.Body)
		}
		return got.Report.RuleSetVersion
	}
	if got, want := submit(), defaultVersion(t); got != want {
		t.Fatalf("first submit screened under %.12s, want the default %.12s", got, want)
	}
	cal, err := w.svc.Calendar(w.ctx)
	if err != nil {
		t.Fatal(err)
	}

	rs, err := rules.Parse(ownPark+".yaml", ruleSetFile(t, "cli"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutRuleSet(w.ctx, engine.RuleSetRecord{Park: ownPark, Version: rs.Version(), Source: rs.Source(), CreatedAt: w.clock.now()}); err != nil {
		t.Fatal(err)
	}
	if got := submit(); got != rs.Version() {
		t.Errorf("the submit after another process's rule change screened under %.12s, want %.12s", got, rs.Version())
	}

	ch, err := otherSvc.ProposeCalendar(w.ctx, w.users["admin"], calendarFile("cli"), "国务院办公厅通知")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherSvc.ApproveCalendar(w.ctx, w.users["committee"], ch.ID, "", "同意"); err != nil {
		t.Fatal(err)
	}
	now, err := w.svc.Calendar(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if now.Version() == cal.Version() || now.Version() != ch.Version {
		t.Errorf("calendar after another process's approval: %.12s, want %.12s (was %.12s)", now.Version(), ch.Version, cal.Version())
	}
}
