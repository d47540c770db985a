package engine_test

import (
	"os"
	"testing"

	"zonevet/store/storetest"
)

// TestMain stops the PostgreSQL test server that storetest.Path starts
// under ZONEVET_TEST_STORE=postgres, which would otherwise outlive the run.
func TestMain(m *testing.M) {
	code := m.Run()
	storetest.StopPostgres()
	os.Exit(code)
}
