package httpx

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimiterSet rate-limits by key (client IP, license id); idle keys are
// forgotten so the set stays small. Limits are per process: behind a load
// balancer each instance allows its share.
type LimiterSet struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	entries map[string]*limiterEntry
	swept   time.Time
}

type limiterEntry struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiterSet allows each key perMinute requests, in bursts of burst.
func NewLimiterSet(perMinute float64, burst int) *LimiterSet {
	return &LimiterSet{every: rate.Limit(perMinute / 60), burst: burst, entries: map[string]*limiterEntry{}}
}

// Allow reports whether key may make one more request now.
func (s *LimiterSet) Allow(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Sub(s.swept) > time.Minute {
		for k, e := range s.entries {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(s.entries, k)
			}
		}
		s.swept = now
	}
	e, ok := s.entries[key]
	if !ok {
		e = &limiterEntry{l: rate.NewLimiter(s.every, s.burst)}
		s.entries[key] = e
	}
	e.seen = now
	return e.l.AllowN(now, 1)
}

// Limited reports whether key has no request left now, without spending
// one. Callers that charge only some requests (unknown keys) ask this
// before they look anything up, so a limited client gets the same answer
// whatever it sends.
func (s *LimiterSet) Limited(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	return ok && e.l.TokensAt(time.Now()) < 1
}
