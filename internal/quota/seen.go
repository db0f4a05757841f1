package quota

import (
	"math"
	"sync"
	"time"
)

// Seen is what this process's informers saw of the objects that object quotas count:
// each object's uid, the latest generation seen stored and when; a deleted object counts
// as seen at every generation. An object made and deleted between two lists is never
// listed, so without it its reservation would hold a place until it expires: a refused
// floating IP allocation, deleted by the shim, would block the next one.
//
// It only ever ends a reservation early: a reservation whose object it has not seen
// counts. Each replica has its own, and any one of them is right about its uids.
type Seen struct {
	mu     sync.Mutex
	at     map[string]seenAt
	pruned time.Time
}

type seenAt struct {
	generation int64
	at         time.Time
}

// Stored records that uid was seen stored at generation.
func (s *Seen) Stored(uid string, generation int64) { s.record(uid, generation) }

// Deleted records that uid was seen deleted.
func (s *Seen) Deleted(uid string) { s.record(uid, math.MaxInt64) }

func (s *Seen) record(uid string, generation int64) {
	if s == nil || uid == "" {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at = map[string]seenAt{}
	}
	if was, ok := s.at[uid]; !ok || was.generation < generation {
		s.at[uid] = seenAt{generation: generation, at: now}
	}
	// What was seen longer ago than any reservation lasts can end none: forget it, in one
	// sweep every ObjectTTL.
	if now.Sub(s.pruned) > ObjectTTL {
		for u, a := range s.at {
			if now.Sub(a.at) > ObjectTTL {
				delete(s.at, u)
			}
		}
		s.pruned = now
	}
}

// before is the generation at which uid was last seen before t (0: not seen).
func (s *Seen) before(uid string, t time.Time) int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.at[uid]
	if !ok || !a.at.Before(t) {
		return 0
	}
	return a.generation
}
