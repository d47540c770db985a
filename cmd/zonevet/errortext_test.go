package main

import (
	"testing"

	"zonevet/engine"
)

// TestErrorTextCatalogueMessage: a domain error from the catalogue prints
// in both languages on the command line, as an inline pair did.
func TestErrorTextCatalogueMessage(t *testing.T) {
	err := engine.FieldFail("roles", "err.unknown_role", engine.Args{"Role": "boss"})
	if got, want := errorText(err), "invalid [roles]: 未知角色:boss / unknown role: boss"; got != want {
		t.Errorf("errorText = %q, want %q", got, want)
	}
}
