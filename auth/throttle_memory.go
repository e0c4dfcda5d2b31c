package auth

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxThrottleRecords is how many records NewMemoryThrottleStore
// keeps by default: about 20 MB with usernames as keys, 30 MB with the
// longest keys.
const DefaultMaxThrottleRecords = 100_000

// MemoryThrottleStore is the default ThrottleStore: records in this
// process's memory, bounded in number. When full, it drops the record
// updated longest ago, so an attacker who sprays attempts over more keys
// or clients than it holds makes it forget old records sooner (raise the
// bound, or use a shared store, if that matters). Healed records are
// dropped as newer ones are written. Safe for concurrent use.
type MemoryThrottleStore struct {
	mu         sync.Mutex
	maxRecords int
	records    map[string]*list.Element // of *memoryThrottleEntry
	order      *list.List               // least recently updated first
	latest     time.Time                // the latest Now seen
}

type memoryThrottleEntry struct {
	key   string
	until time.Time
}

// NewMemoryThrottleStore returns an empty store that keeps at most
// maxRecords records (DefaultMaxThrottleRecords if maxRecords <= 0).
func NewMemoryThrottleStore(maxRecords int) *MemoryThrottleStore {
	if maxRecords <= 0 {
		maxRecords = DefaultMaxThrottleRecords
	}
	return &MemoryThrottleStore{maxRecords: maxRecords, records: make(map[string]*list.Element), order: list.New()}
}

// Update implements ThrottleStore.
func (s *MemoryThrottleStore) Update(ctx context.Context, key string, u ThrottleUpdate) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Now.After(s.latest) {
		s.latest = u.Now
	}
	el := s.records[key]
	var before time.Time
	if el != nil {
		before = el.Value.(*memoryThrottleEntry).until
	}
	until, applied := u.Apply(before)
	switch {
	case !applied:
	case !until.After(u.Now): // healed: no record
		if el != nil {
			s.remove(el)
		}
	case el != nil:
		el.Value.(*memoryThrottleEntry).until = until
		s.order.MoveToBack(el)
	default:
		s.records[key] = s.order.PushBack(&memoryThrottleEntry{key: key, until: until})
		if s.order.Len() > s.maxRecords {
			s.remove(s.order.Front())
		}
	}
	// Drop a few healed records from the old end: the work per update
	// stays constant.
	for range 2 {
		front := s.order.Front()
		if front == nil || front.Value.(*memoryThrottleEntry).until.After(s.latest) {
			break
		}
		s.remove(front)
	}
	return until, applied, nil
}

func (s *MemoryThrottleStore) remove(el *list.Element) {
	delete(s.records, el.Value.(*memoryThrottleEntry).key)
	s.order.Remove(el)
}

// Len returns the number of records held.
func (s *MemoryThrottleStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}
