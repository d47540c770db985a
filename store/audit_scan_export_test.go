package store

// SetAuditScanChunk makes the parallel scan read n seqs per chunk, so that
// chunk boundaries fall inside a test's small log; it returns the undo.
func SetAuditScanChunk(n int64) (restore func()) {
	old, oldPG := auditScanChunk, auditScanChunkPG
	auditScanChunk, auditScanChunkPG = n, n
	return func() { auditScanChunk, auditScanChunkPG = old, oldPG }
}
