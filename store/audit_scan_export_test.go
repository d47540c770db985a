package store

// SetAuditScanChunk makes the parallel scan read n seqs per chunk, so that
// chunk boundaries fall inside a test's small log; it returns the undo.
func SetAuditScanChunk(n int64) (restore func()) {
	old, oldPG := auditScanChunk, auditScanChunkPG
	auditScanChunk, auditScanChunkPG = n, n
	return func() { auditScanChunk, auditScanChunkPG = old, oldPG }
}

// SetAuditScanAheadRows makes PostgreSQL's stream hold at most n rows that
// come before their turn; it returns the undo.
func SetAuditScanAheadRows(n int) (restore func()) {
	old := auditScanAheadRows
	auditScanAheadRows = n
	return func() { auditScanAheadRows = old }
}
