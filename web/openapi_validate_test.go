package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"zonevet/engine"
)

// TestOpenAPIResponsesMatchSchemas holds openapi.json to what the server
// really answers: every API row of the permission matrix is sent as every
// principal to a real test server, and each answer — successes and
// refusals alike — is validated against the document with kin-openapi's
// openapi3filter (status documented, body of its schema); JSON request
// bodies are validated too. Every documented operation must have had at
// least one successful answer validated, so the document is not only
// present but true.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	// The router matches paths against the server URL; a relative one is
	// resolved against the test server's origin.
	doc.Servers = openapi3.Servers{{URL: "http://zonevet.test/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// JSON Lines are validated line by line, as the array of their lines.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		var lines []any
		dec := json.NewDecoder(r)
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return lines, nil
			} else if err != nil {
				return nil, err
			}
			lines = append(lines, v)
		}
	})
	w := mustWorldConfig(t, Config{CheckpointKey: key, AuditPullRate: 1e6, AuditPullBurst: 1e6})
	rows := append(append(append(w.matrixRoutes(), w.apiAuditRoutes()...), w.apiWorkRoutes()...), w.apiGovernRoutes()...)
	rows = append(rows, w.apiCalendarRoutes()...)
	rows = append(rows, w.apiVerbRoutes()...)
	rows = append(rows, w.apiVerbs2Routes()...)
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	succeeded := map[string]bool{}
	check := func(method, target, who string, body any) int {
		t.Helper()
		rec := w.login(who).do(method, target, body)
		req, err := http.NewRequest(method, "http://zonevet.test"+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s %s: not in openapi.json: %v", method, target, err)
			return rec.Code
		}
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
		if data, ok := jsonBody(body); ok {
			req.Body = io.NopCloser(bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/json")
			if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
				t.Errorf("%s %s as %s: the request the test sends does not match the document: %v", method, target, who, err)
			}
		} else {
			in.Options = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true,
				MultiError: true, ExcludeRequestBody: true}
		}
		resp := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: in.Options}
		resp.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(ctx, resp); err != nil {
			t.Errorf("%s %s as %s: answer %d does not match openapi.json: %v\n%.400s", method, target, who, rec.Code, err, rec.Body.String())
			return rec.Code
		}
		if rec.Code < 300 {
			if dir := os.Getenv("ZONEVET_OPENAPI_EXAMPLES"); dir != "" && !succeeded[operationKey(route)] {
				// How the document's examples were made: real answers.
				saveExample(t, dir, route, body, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			}
			succeeded[operationKey(route)] = true
		}
		return rec.Code
	}
	// A complete pull first, which signs the head: the checkpoint answers
	// then carry checkpoints to validate.
	w.user("auditor-all", engine.RoleAssignment{Role: engine.RoleAuditor, Park: ownPark}, engine.RoleAssignment{Role: engine.RoleAuditor, Park: otherPark})
	w.project(engine.StateScreening)
	if got := check("GET", "/api/v1/audit/entries?limit=1000", "auditor-all", nil); got != http.StatusOK {
		t.Fatalf("complete pull: %d", got)
	}
	check("GET", "/api/v1/audit/entries?after=2&limit=3&format=jsonl", "auditor-all", nil)
	for _, r := range rows {
		if !strings.HasPrefix(r.path, "/api/v1/") {
			continue
		}
		cells := rowProjects{w: w, r: r}
		for _, who := range principals {
			p := cells.project(who, wantFor(t, r.want, who))
			target, body := r.req(w, p, who)
			check(r.method, target, who, body)
		}
	}
	// The matrix tries the import without a file and a rating of a year
	// without figures; the work done properly: a sheet with a bad row
	// (422), its good rows, and the committee's run of that year.
	a, b := w.tracked(engine.StateInProduction), w.tracked(engine.StateInProduction)
	year := strconv.Itoa(lastYear(w))
	book := annualBook(t, [][]any{
		{a.USCC, a.Name, 40000, 42000, 10000, 2000, 1600, 9000, 5, 300, "是", "是"},
		{b.USCC, b.Name, 30000, "三万", 8000, 900, 900, 7000, 4, 200, "否", "是"},
	})
	if got := check("POST", "/api/v1/tracking/import", "promoter", w.multipartFields(url.Values{"park": {ownPark}, "year": {year}}, "年度数据.xlsx", book)); got != http.StatusUnprocessableEntity {
		t.Errorf("import with a bad row: %d", got)
	}
	if got := check("POST", "/api/v1/tracking/import", "promoter", w.multipartFields(url.Values{"park": {ownPark}, "year": {year}, "accept_good": {"1"}}, "年度数据.xlsx", book)); got != http.StatusOK {
		t.Errorf("import the good rows: %d", got)
	}
	if got := check("POST", "/api/v1/tracking/runs", "committee", ratingRunInput{Park: ownPark, Year: lastYear(w)}); got != http.StatusCreated {
		t.Errorf("rating run: %d", got)
	}
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if k := method + " " + path; !succeeded[k] && path != "/openapi.json" {
				missing = append(missing, k)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations without a validated successful answer: %v", missing)
	}
}

func operationKey(r *routers.Route) string { return r.Method + " " + r.Path }

// jsonBody is the JSON the test client sends for body, if it sends JSON.
func jsonBody(body any) ([]byte, bool) {
	switch body.(type) {
	case nil, url.Values, *multipartBody:
		return nil, false
	}
	data, err := json.Marshal(body)
	return data, err == nil
}

// saveExample writes an operation's request and answer to dir, for the
// document's examples (ZONEVET_OPENAPI_EXAMPLES=dir go test -run TestOpenAPIResponsesMatchSchemas).
func saveExample(t *testing.T, dir string, route *routers.Route, body any, status int, ctype string, answer []byte) {
	if !strings.HasPrefix(ctype, "application/json") {
		return
	}
	req, _ := jsonBody(body)
	out, err := json.Marshal(map[string]any{"method": route.Method, "path": route.Path, "status": status,
		"request": json.RawMessage(orNull(req)), "response": json.RawMessage(answer)})
	if err != nil {
		t.Fatal(err)
	}
	name := strings.NewReplacer("/", "_", "{", "", "}", "").Replace(route.Method + route.Path)
	if err := os.WriteFile(filepath.Join(dir, name+".json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// TestOpenAPIExamples: every JSON request body and every successful JSON
// answer of every operation has an example (on the media type or its
// schema); doc.Validate in TestOpenAPIResponsesMatchSchemas checks each
// against its schema. The examples are real answers of the test server
// (saveExample), shortened.
func TestOpenAPIExamples(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatal(err)
	}
	has := func(m *openapi3.MediaType) bool {
		if m.Example != nil || len(m.Examples) > 0 || m.Schema == nil || m.Schema.Value == nil {
			return m.Example != nil || len(m.Examples) > 0
		}
		s := m.Schema.Value
		if s.Example != nil {
			return true
		}
		return s.Items != nil && s.Items.Value != nil && s.Items.Value.Example != nil
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if m := op.RequestBody.Value.Content.Get("application/json"); m != nil && !has(m) {
					t.Errorf("%s %s: the request body has no example", method, path)
				}
			}
			for code, r := range op.Responses.Map() {
				if !strings.HasPrefix(code, "2") || r.Value == nil || path == "/openapi.json" {
					continue
				}
				if m := r.Value.Content.Get("application/json"); m != nil && !has(m) {
					t.Errorf("%s %s: answer %s has no example", method, path, code)
				}
			}
		}
	}
}
