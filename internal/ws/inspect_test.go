package ws

// Accessors that only tests read.

// peakBytes returns the most bytes the queue ever held.
func (q *sendQueue) peakBytes() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.peak
}
