package chat

// WatchQueues returns channels that receive a value each time a request
// is queued in the message batcher (sends) and the ack batcher (acks), so
// that a test can hold a batch open until all its requests are queued.
// Each channel buffers 1024 values.
func (s *Service) WatchQueues() (sends, acks <-chan struct{}) {
	return watch(s.msgs), watch(s.acks)
}

func watch[R interface{ done(error) }](b *batcher[R]) <-chan struct{} {
	ch := make(chan struct{}, 1024)
	b.mu.Lock()
	b.queued = func() { ch <- struct{}{} }
	b.mu.Unlock()
	return ch
}

// CheckRawJSON exposes checkRawJSON to the tests.
var CheckRawJSON = checkRawJSON

// EligibleReader exposes eligibleReader to the conformance test of the
// store's SQL.
var EligibleReader = eligibleReader
