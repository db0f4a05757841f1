package compute

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

func TestDebugHandler(t *testing.T) {
	clock := newClock()
	s := newSim(t, SimulatedConfig{StepLatency: time.Second, Now: clock.Now})
	mustStart(t, s, "a", OpRequest{Kind: OpSpawn, Token: "spawn", Flavor: Resources{VCPUs: 1}})
	var events []string
	s.Notify(func(id string) { events = append(events, id) })
	h := s.DebugHandler()
	post := func(target string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, nil))
		return rec.Code
	}
	if code := post("/instances/a/behind-kova?power=shutdown"); code != http.StatusConflict {
		t.Fatalf("during the spawn: %d, want 409", code)
	}
	clock.Advance(time.Second)
	for _, tc := range []struct {
		target string
		code   int
	}{
		{"/instances/a/behind-kova?power=bogus", http.StatusBadRequest},
		{"/instances/a/behind-kova?power=shutdown&vanish=true", http.StatusBadRequest},
		{"/instances/nope/behind-kova?power=shutdown", http.StatusNotFound},
		{"/instances/a/behind-kova?power=CRASHED&silent=true", http.StatusNoContent},
	} {
		if code := post(tc.target); code != tc.code {
			t.Errorf("POST %s: %d, want %d", tc.target, code, tc.code)
		}
	}
	if got := mustGet(t, s, "a"); got.Power != lifecycle.PowerCrashed || len(events) != 0 {
		t.Fatalf("after a silent crash: power %s, events %v", got.Power, events)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/instances/a/behind-kova?vanish=true", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", rec.Code)
	}
	if code := post("/instances/a/behind-kova?vanish=true"); code != http.StatusNoContent {
		t.Fatalf("vanish: %d", code)
	}
	if _, err := s.Get(ctx, "a"); err != ErrNotFound || len(events) != 1 {
		t.Fatalf("after vanish: %v, events %v", err, events)
	}
}
