package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Concurrent checks of one scope admit exactly the limit, though none of the admitted
// objects is listed yet; once listed they are not counted twice; an admitted create never
// stored stops counting after admittedTTL.
func TestCountGate(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	g := &countGate{now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	var stored []string
	over := errors.New("over")
	limit := func(n int) func(int) error {
		return func(count int) error {
			if count >= n {
				return over
			}
			return nil
		}
	}
	var listErr error // the API server's answer to the list
	list := func() ([]string, error) { return stored, listErr }
	var wg sync.WaitGroup
	var admitted sync.Map
	for i := range 20 {
		wg.Go(func() {
			name := fmt.Sprintf("g%d", i)
			if g.admit(context.Background(), "t", name, list, limit(5)) == nil {
				admitted.Store(name, true)
			}
		})
	}
	wg.Wait()
	n := 0
	admitted.Range(func(k, _ any) bool { n++; stored = append(stored, k.(string)); return true })
	if n != 5 {
		t.Fatalf("admitted %d of 20 concurrent creates against a limit of 5", n)
	}
	if err := g.admit(context.Background(), "t", "late", list, limit(5)); err == nil {
		t.Fatal("a sixth admitted once the five are stored")
	}
	if err := g.admit(context.Background(), "other", "x", list, limit(6)); err != nil {
		t.Fatalf("another scope: %v", err)
	}
	listErr = errors.New("unavailable")
	if err := g.admit(context.Background(), "other", "z", list, limit(100)); !errors.Is(err, listErr) {
		t.Fatalf("a failed list admitted: %v", err)
	}
	listErr = nil
	// Two admitted creates never stored hold their places until admittedTTL.
	none := func() ([]string, error) { return nil, listErr }
	for _, name := range []string{"a", "b"} {
		if err := g.admit(context.Background(), "u", name, none, limit(2)); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.admit(context.Background(), "u", "c", none, limit(2)); err == nil {
		t.Fatal("places freed before admittedTTL")
	}
	mu.Lock()
	now = now.Add(admittedTTL + time.Second)
	mu.Unlock()
	if err := g.admit(context.Background(), "u", "c", none, limit(2)); err != nil {
		t.Fatalf("after admittedTTL: %v", err)
	}
}
