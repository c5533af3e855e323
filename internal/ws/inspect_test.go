package ws

// Accessors that only tests read.

// subscribed reports whether s is subscribed to a topic.
func (h *hub) subscribed(name string, s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return s.topics[name]
}

// topicCount returns how many bus topics the node is subscribed to.
func (h *hub) topicCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics)
}

// peakBytes returns the most bytes the queue ever held.
func (q *sendQueue) peakBytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.peak
}
