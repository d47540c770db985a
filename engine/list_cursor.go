package engine

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// ListCursor is a place in a sorted project list, for keyset paging: the
// sort key's value at a row and the row's id (ties on the key are broken by
// id in every sort). Only the field of the list's sort is read: Updated for
// "updated", Due for "due" (nil: among the projects without a deadline),
// Name for "name", nothing beyond ID for "id". Reading from a place costs
// the page alone, however deep in the list it is; an offset skips every row
// before it.
type ListCursor struct {
	Updated time.Time  `json:"u,omitzero"`
	Due     *time.Time `json:"d,omitempty"`
	Name    string     `json:"n,omitempty"`
	ID      int64      `json:"i"`
}

// CursorAt is the place of p in a list sorted by sort (with or without "-").
func CursorAt(sort string, p *Project) ListCursor {
	c := ListCursor{ID: p.ID}
	switch trimSortDir(sort) {
	case "updated":
		c.Updated = p.UpdatedAt
	case "due":
		c.Due = p.DueAt
	case "name":
		c.Name = p.Name
	}
	return c
}

func trimSortDir(sort string) string {
	if len(sort) > 0 && sort[0] == '-' {
		return sort[1:]
	}
	return sort
}

// Encode is the cursor as a URL-safe token.
func (c ListCursor) Encode() string {
	b, _ := json.Marshal(c) // a struct of times, a string and an int: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a token made by Encode; field names the parameter it
// came in, for the error.
func DecodeCursor(field, token string) (*ListCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	var c ListCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 {
		return nil, FieldFail(field, "err.invalid_page_position_go", nil)
	}
	return &c, nil
}
