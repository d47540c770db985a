package engine

// TrackingStore is what the after-signature half of the lifecycle (agreements,
// milestones, annual figures, rating runs, rectification) needs from
// persistence, beside Store. store.DB implements it.
type TrackingStore interface{}
