package sandbox

import (
	"encoding/json"
	"maps"
	"net/http"
	"sync"
)

// Stats counts requests per operation, keyed "service.Operation":
// "secretsmanager.ListSecrets", "iam.ListRoles", "sts.GetCallerIdentity".
// Calls counts every request that named an operation, including those
// answered with a throttle or an injected fault.
type Stats struct {
	Calls     map[string]int
	Throttled map[string]int
	Faults    map[string]int
	// Propagating counts the IAM writes refused because the role they
	// name was still propagating (Options.PropagateWrites).
	Propagating map[string]int
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s = Stats{Calls: map[string]int{}, Throttled: map[string]int{}, Faults: map[string]int{}, Propagating: map[string]int{}}
}

func (st *stats) add(m func(*Stats) map[string]int, op string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m(&st.s)[op]++
}

func (st *stats) call(op string) { st.add(func(s *Stats) map[string]int { return s.Calls }, op) }
func (st *stats) throttle(op string) {
	st.add(func(s *Stats) map[string]int { return s.Throttled }, op)
}
func (st *stats) fault(op string) { st.add(func(s *Stats) map[string]int { return s.Faults }, op) }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return Stats{Calls: maps.Clone(s.stats.s.Calls), Throttled: maps.Clone(s.stats.s.Throttled), Faults: maps.Clone(s.stats.s.Faults), Propagating: maps.Clone(s.stats.s.Propagating)}
}

// ResetStats sets every counter to zero.
func (s *Server) ResetStats() { s.stats.reset() }

// serveAdmin answers the sandbox's own endpoints: GET /_sandbox/stats and
// POST /_sandbox/reset-stats.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sandbox/stats" && r.Method == http.MethodGet:
		b, err := json.Marshal(s.Stats())
		if err != nil {
			http.Error(w, "encoding stats failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(b, '\n'))
	case r.URL.Path == "/_sandbox/reset-stats" && r.Method == http.MethodPost:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}
