package store_test

import "os"

// longTests reports whether the long cases run at full size. The README's
// `go test -race ./...` runs them smaller, keeping every path they guard,
// so the suite stays within minutes on a busy 2-core machine; set
// ZONEVET_LONG_TESTS=1 for the full matrices before a release.
func longTests() bool { return os.Getenv("ZONEVET_LONG_TESTS") != "" }
