package secretsmanager

import (
	"slices"
	"time"
)

// ListSecrets is eventually consistent on AWS: it may lag writes by minutes
// (AWS-FACTS §1.1), while DescribeSecret and the other calls by ID see
// every write at once. With a listing lag the emulation reproduces that:
// ListSecrets answers from the state each secret had lag ago, so a new
// secret is missing, a deleted one still listed and version stages old,
// until the lag has passed.
//
// It keeps, per secret ARN, the listable state after each change (a copy
// without payloads; nil once the secret is gone), and only while the lag
// is on.

// listed is a secret's listable state from a moment on.
type listed struct {
	from time.Time
	sec  *secret // nil: the secret does not exist
}

// SetListingLag sets how far ListSecrets lags writes, in every region; 0
// turns the lag off. Turning it on treats the present state as caught up:
// only later changes are late.
func (s *Service) SetListingLag(lag time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.each(func(r *Service) { r.setListingLag(lag) })
}

func (s *Service) setListingLag(lag time.Duration) {
	switch {
	case lag <= 0:
		s.lag, s.history, s.touched = 0, nil, nil
	case s.lag == 0:
		s.lag = lag
		s.seedHistory()
	default:
		s.lag = lag
	}
}

// seedHistory starts the history with every secret's present state, visible
// from the beginning of time.
func (s *Service) seedHistory() {
	s.history, s.touched = map[string][]listed{}, map[string]bool{}
	for arn, sec := range s.byARN {
		s.history[arn] = []listed{{sec: sec.listingCopy()}}
	}
}

// touch notes that sec may have changed in the current request.
func (s *Service) touch(sec *secret) {
	if s.touched != nil {
		s.touched[sec.ARN] = true
	}
	if len(sec.Replicas) > 0 {
		s.unsynced[sec] = true
	}
}

// record appends the state of every touched secret to its history and
// forgets what the lag has made visible for good: everything before the
// last state older than the lag.
func (s *Service) record() {
	if len(s.touched) == 0 {
		return
	}
	now := s.cfg.Now()
	cutoff := now.Add(-s.lag)
	for arn := range s.touched {
		var cur *secret
		if sec, ok := s.byARN[arn]; ok {
			cur = sec.listingCopy()
		}
		h := append(s.history[arn], listed{from: now, sec: cur})
		keep := 0
		for i := range h {
			if !h[i].from.After(cutoff) {
				keep = i
			}
		}
		h = h[keep:]
		if len(h) == 1 && h[0].sec == nil {
			delete(s.history, arn)
			continue
		}
		s.history[arn] = h
	}
	clear(s.touched)
}

// listable returns the secrets ListSecrets sees: the current ones, or with
// a lag each secret as it was lag ago.
func (s *Service) listable() []*secret {
	if s.lag == 0 {
		out := make([]*secret, 0, len(s.byARN))
		for _, sec := range s.byARN {
			out = append(out, sec)
		}
		return out
	}
	cutoff := s.cfg.Now().Add(-s.lag)
	var out []*secret
	for _, h := range s.history {
		i := slices.IndexFunc(h, func(l listed) bool { return l.from.After(cutoff) })
		switch {
		case i == 0: // created after the cutoff: not listed yet
		case i < 0:
			if sec := h[len(h)-1].sec; sec != nil {
				out = append(out, sec)
			}
		default:
			if sec := h[i-1].sec; sec != nil {
				out = append(out, sec)
			}
		}
	}
	return out
}

// listingCopy copies what ListSecrets shows of a secret: no payloads.
func (sec *secret) listingCopy() *secret {
	c := *sec
	if sec.Rotation != nil {
		r := *sec.Rotation
		c.Rotation = &r
	}
	c.Tags = slices.Clone(sec.Tags)
	c.Replicas = make([]*replica, len(sec.Replicas))
	for i, r := range sec.Replicas {
		rc := *r
		c.Replicas[i] = &rc
	}
	c.Versions = make([]*version, len(sec.Versions))
	for i, v := range sec.Versions {
		c.Versions[i] = &version{ID: v.ID, Stages: slices.Clone(v.Stages), Created: v.Created}
	}
	return &c
}
