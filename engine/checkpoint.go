package engine

// CheckpointStore keeps the signed checkpoints of the decision log's head,
// beside Store. store.DB implements it.
type CheckpointStore interface{}
