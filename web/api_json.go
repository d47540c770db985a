package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// errVersionRequired answers a change sent without the version the client
// read: a 400 naming the field, not the 409 a stale version gets, for
// nothing was stale — the client forgot to say what it saw.
var errVersionRequired = engine.FieldError("version", "缺少 version(读取项目时的版本号)", "version required (the project's version as you read it)")

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
			return engine.FieldError("body", "请求体在 JSON 之后还有多余内容", "the request body has data after its JSON value")
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
		return engine.FieldError(field,
			fmt.Sprintf("字段 %s 应为%s,收到的是%s", field, zh, gotZH),
			fmt.Sprintf("field %s must be %s, not %s", field, en, gotEN))
	case errors.Is(err, io.EOF):
		return engine.FieldError("body", "请求体为空,应为一个 JSON 对象", "the request body is empty; send one JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return engine.FieldError("body", "请求体的 JSON 不完整", "the request body's JSON is incomplete")
	case errors.As(err, &se):
		return engine.FieldError("body", fmt.Sprintf("请求体不是有效的 JSON(第 %d 字节附近)", se.Offset),
			fmt.Sprintf("the request body is not valid JSON (near byte %d)", se.Offset))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return engine.FieldError(f, fmt.Sprintf("未知字段 %s", f), fmt.Sprintf("unknown field %s", f))
	}
	// A value its own type refused (a date, an enumeration): the type's
	// message is ours, not the decoder's.
	var de *engine.Error
	if errors.As(err, &de) {
		return de
	}
	return engine.FieldError("body", "请求体中有无法识别的值", "the request body holds a value that cannot be read")
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
