package app

import "time"

// Watch is a check the worker runs on a timer (overdue webhook
// deliveries, key sharing): a plain query and, when it finds something, a
// signal; never a workflow of its own, so an idle installation adds no
// workflow runs. Close stops it.
type Watch struct {
	stop chan struct{}
	done chan struct{}
}

// watchEvery runs check every interval, the first time one interval from
// now, until Close.
func watchEvery(interval time.Duration, check func()) *Watch {
	w := &Watch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				check()
			}
		}
	}()
	return w
}

// Close stops the watch and waits for a check under way.
func (w *Watch) Close() {
	close(w.stop)
	<-w.done
}
