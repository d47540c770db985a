package web

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"zonevet/rules/catalog"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// errVersionRequired answers a change sent without the version the client
// read: a 400 naming the field, not the 409 a stale version gets, for
// nothing was stale — the client forgot to say what it saw.
var errVersionRequired = engine.FieldFail("version", "err.version_required_project_version", nil)

// decodeJSON reads a request body strictly: unknown fields are a 400 naming
// the field, so a typo in a script fails loudly instead of being ignored;
// anything after the one JSON value (a second object, trailing garbage) is a
// 400 too, for a client that sends it did not mean what was read; a body
// over the limit is a 413. Every refusal is in the API's own words, naming
// the field and what it should hold, never the decoder's Go-speak.
func (s *Server) decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			if tooLarge(terr) {
				return s.errTooLarge(c)
			}
			return engine.FieldFail("body", "err.request_body_has_data_after_its", nil)
		}
		return nil
	}
	if tooLarge(err) {
		return s.errTooLarge(c)
	}
	return jsonError(err)
}

// jsonError words a decoding error for the API's user.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		zh, en := jsonKind(te.Type)
		gotZH, gotEN := jsonValueKind(te.Value)
		return engine.FieldFail(field, "err.json_field_type", engine.Args{"Field": field,
			"Want": catalog.Text{ZH: zh, EN: en}, "Got": catalog.Text{ZH: gotZH, EN: gotEN}})
	case errors.Is(err, io.EOF):
		return engine.FieldFail("body", "err.request_body_empty_send", nil)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return engine.FieldFail("body", "err.request_body_json_incomplete", nil)
	case errors.As(err, &se):
		return engine.FieldFail("body", "err.request_body_not_valid", engine.Args{"Offset": se.Offset})
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return engine.FieldFail(f, "err.unknown_field", engine.Args{"Field": f})
	}
	// A value its own type refused (a date, an enumeration): the type's
	// message is ours, not the decoder's.
	var de *engine.Error
	if errors.As(err, &de) {
		return de
	}
	return engine.FieldFail("body", "err.request_body_holds_value", nil)
}

// jsonKind names what a Go type is in JSON, in both languages.
func jsonKind(t reflect.Type) (zh, en string) {
	if t == nil {
		return "其他类型", "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.String() == "time.Time" {
		return "时间字符串(RFC 3339,如 2026-12-04T10:00:00+08:00)", "a time string (RFC 3339, e.g. 2026-12-04T10:00:00+08:00)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数", "an integer"
	case reflect.Float32, reflect.Float64:
		return "数字", "a number"
	case reflect.String:
		return "字符串", "a string"
	case reflect.Bool:
		return "布尔值(true 或 false)", "true or false"
	case reflect.Slice, reflect.Array:
		return "数组", "an array"
	case reflect.Struct, reflect.Map:
		return "对象", "an object"
	}
	return "其他类型", "another type"
}

// jsonValueKind names the JSON value the decoder found ("string",
// "number", "number 1.5", "bool", "array", "object").
func jsonValueKind(v string) (zh, en string) {
	switch {
	case v == "string":
		return "字符串", "a string"
	case strings.HasPrefix(v, "number"):
		return "数字", "a number"
	case v == "bool":
		return "布尔值", "true or false"
	case v == "array":
		return "数组", "an array"
	case v == "object":
		return "对象", "an object"
	}
	return v, v
}
