package engine

import (
	"errors"
	"fmt"
)

// Error codes, mapped to HTTP statuses in one table in web.
const (
	ECONFLICT     = "conflict"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
)

// Error is a domain error whose message is safe to show to a user. Field names
// the input field at fault, if any. MessageEN is the English text; Message is
// zh-CN, the product's first language.
type Error struct {
	Code      string
	Field     string
	Message   string // zh-CN
	MessageEN string
	// Fields names every input at fault when there are several (an
	// incomplete project, an override missing pieces), so a form marks them
	// all at once; Field is then the first of them.
	Fields []string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.MessageEN)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.MessageEN)
}

// Errorf builds an *Error with the same text in both languages formatted from
// zh and en (each taking args).
func Errorf(code, zh, en string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(zh, args...), MessageEN: fmt.Sprintf(en, args...)}
}

// FieldError builds an invalid-input *Error naming the field.
func FieldError(field, zh, en string) *Error {
	return &Error{Code: EINVALID, Field: field, Message: zh, MessageEN: en}
}

// ErrorCode returns the code of err's *Error, or EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err in the language lang ("en" or zh).
func ErrorMessage(err error, lang string) string {
	var e *Error
	if errors.As(err, &e) {
		if lang == "en" {
			return e.MessageEN
		}
		return e.Message
	}
	if lang == "en" {
		return "Internal error"
	}
	return "系统内部错误"
}
