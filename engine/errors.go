package engine

import (
	"errors"
	"fmt"

	"zonevet/rules"
	"zonevet/rules/catalog"
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

// Args are a message's named arguments ({{.Name}} in the catalogue).
type Args = catalog.Args

// Error is a domain error whose message is safe to show to a user. Its text
// is the catalogue message ID filled with Args, rendered in the reader's
// language by Text. Field names the input field at fault, if any.
type Error struct {
	Code string
	ID   string
	Args Args
	// Field names the input at fault; Fields every input at fault when
	// there are several (an incomplete project, an override missing
	// pieces), so a form marks them all at once — Field is then the first.
	Field  string
	Fields []string
}

// Fail builds an *Error whose text is the catalogue message id with args.
func Fail(code, id string, args Args) *Error {
	return &Error{Code: code, ID: id, Args: args}
}

// FieldFail builds an invalid-input *Error naming the field, its text the
// catalogue message id with args.
func FieldFail(field, id string, args Args) *Error {
	return &Error{Code: EINVALID, Field: field, ID: id, Args: args}
}

// Text renders the message in lang ("en", anything else is zh-CN).
func (e *Error) Text(lang string) string {
	return catalog.T(lang, e.ID, e.Args)
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Text(catalog.EN))
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Text(catalog.EN))
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
		return e.Text(lang)
	}
	return catalog.T(lang, "err.internal", nil)
}

// inputError is the domain error for a figure the rules refuse: the same
// message, on the same field.
func inputError(ie *rules.InputError) *Error {
	return &Error{Code: EINVALID, Field: ie.Field, ID: ie.Msg.ID, Args: ie.Msg.Args}
}
