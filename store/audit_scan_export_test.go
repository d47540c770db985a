package store

// SetAuditScanChunk makes the parallel scan read n seqs per chunk, so that
// chunk boundaries fall inside a test's small log; it returns the undo.
func SetAuditScanChunk(n int64) (restore func()) {
	old := auditScanChunk
	auditScanChunk = n
	return func() { auditScanChunk = old }
}
