package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"zonevet/engine"
)

// TestAPIJSONErrorsInOwnWords (issue 15): a missing version is a 400
// "version required" naming the field, not a 409; a body of the wrong shape
// is refused naming the field and what it must hold, in the user's
// language, with none of the decoder's Go-speak.
func TestAPIJSONErrorsInOwnWords(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateDraft)
	c := w.login("promoter")
	act := fmt.Sprintf("/api/v1/projects/%d/actions", p.ID)
	tests := []struct {
		name, method, target, body string
		field, zh, en              string
	}{
		{"ActionWithoutVersion", "POST", act, `{"event":"submit"}`, "version", "缺少 version", "version required"},
		{"UpdateWithoutVersion", "PUT", fmt.Sprintf("/api/v1/projects/%d", p.ID), `{"park":"qingyuan"}`, "version", "缺少 version", "version required"},
		{"StringForInteger", "POST", act, `{"event":"submit","version":"3"}`, "version", "字段 version 应为整数,收到的是字符串", "field version must be an integer, not a string"},
		{"StringForNumber", "POST", "/api/v1/projects", `{"park":"qingyuan","figures":{"tax":"many"}}`, "figures.tax", "字段 figures.tax 应为数字,收到的是字符串", "field figures.tax must be a number, not a string"},
		{"NumberForString", "POST", "/api/v1/projects", `{"park":7}`, "park", "字段 park 应为字符串,收到的是数字", "field park must be a string, not a number"},
		{"ObjectForString", "POST", act, `{"event":{"x":1},"version":1}`, "event", "应为字符串,收到的是对象", "must be a string, not an object"},
		{"ArrayBody", "POST", "/api/v1/projects", `[1,2]`, "body", "应为对象,收到的是数组", "must be an object, not an array"},
		{"Truncated", "POST", "/api/v1/projects", `{"park":"qingyuan"`, "body", "JSON 不完整", "incomplete"},
		{"Garbage", "POST", "/api/v1/projects", `{"park":qingyuan}`, "body", "不是有效的 JSON", "not valid JSON"},
		{"Empty", "POST", "/api/v1/projects", ``, "body", "请求体为空", "empty"},
		{"UnknownField", "POST", "/api/v1/projects", `{"nmae":"x"}`, "nmae", "未知字段 nmae", "unknown field nmae"},
	}
	for _, tt := range tests {
		for _, lang := range []string{langZH, langEN} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				req := httptest.NewRequest(tt.method, tt.target, bytes.NewReader([]byte(tt.body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(csrfHeader, c.csrf)
				req.AddCookie(c.cookie)
				req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
				rec := httptest.NewRecorder()
				w.srv.ServeHTTP(rec, req)
				got := decode[apiError](t, rec.Body.Bytes())
				want := tt.zh
				if lang == langEN {
					want = tt.en
				}
				if rec.Code != http.StatusBadRequest || got.Code != engine.EINVALID || got.Field != tt.field || !strings.Contains(got.Message, want) {
					t.Fatalf("%d %+v, want 400 field %q saying %q", rec.Code, got, tt.field, want)
				}
				for _, goSpeak := range []string{"Go struct", "unmarshal", "json:", "ProjectInput", "float64", "int64"} {
					if strings.Contains(got.Message, goSpeak) {
						t.Errorf("message %q speaks Go (%q)", got.Message, goSpeak)
					}
				}
			})
		}
	}
}
