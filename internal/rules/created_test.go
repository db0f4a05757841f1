package rules

import (
	"testing"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestCreatedLabels(t *testing.T) {
	got := CreatedLabels(time.Unix(1764558123, 900_000_000))
	want := map[string]string{
		computev1.LabelCreated1s:   "1764558123",
		computev1.LabelCreated1e3s: "1764558000",
		computev1.LabelCreated1e5s: "1764500000",
		computev1.LabelCreated1e7s: "1760000000",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestCreatedSelectionFor: every server made in the span, labelled by a clock up to
// CreatedSlack off, is in the selection, and a server made well outside it is not, however
// long the span; a span from the first server to now is every server.
func TestCreatedSelectionFor(t *testing.T) {
	now := time.Unix(1764558123, 0)
	for _, tt := range []struct {
		name     string
		lo, hi   time.Time
		min, max bool // the selection has a lower, an upper bound
		ok       bool
	}{
		{"ten seconds", now.Add(-10 * time.Minute), now.Add(-10*time.Minute + 10*time.Second), true, true, true},
		{"up to now", now.Add(-100 * time.Second), now, true, false, true},
		{"a day", now.Add(-24 * time.Hour), now.Add(-23 * time.Hour), true, true, true},
		{"a year, up to now", now.Add(-365 * 24 * time.Hour), now, true, false, true},
		{"from the start, a minute ago", time.Time{}, now.Add(-time.Minute), false, true, true},
		{"a century", now.Add(-100 * 365 * 24 * time.Hour), now.Add(-time.Hour), true, true, true},
		{"from the start to now", time.Time{}, now, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sel, ok := CreatedSelectionFor(tt.lo, tt.hi, now)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if sel.Label != computev1.LabelCreated1s || (sel.Min != nil) != tt.min || (sel.Max != nil) != tt.max {
				t.Errorf("selection %s min %v max %v, want %s min %v max %v", sel.Label, sel.Min != nil, sel.Max != nil, computev1.LabelCreated1s, tt.min, tt.max)
			}
			if !sel.CoversSpan(tt.lo, tt.hi) {
				t.Errorf("the selection does not cover its own span")
			}
			lo := tt.lo
			if lo.IsZero() {
				lo = tt.hi.Add(-48 * time.Hour)
			}
			step := max(time.Second, tt.hi.Sub(lo)/20000)
			times := []time.Time{tt.hi}
			for made := lo; !made.After(tt.hi); made = made.Add(step) {
				times = append(times, made)
			}
			for _, made := range times {
				// Made at a whole second (creationTimestamp's), labelled up to CreatedSlack
				// before or CreatedSkew after.
				made = made.Truncate(time.Second)
				if made.Before(tt.lo) {
					continue
				}
				for _, off := range []time.Duration{-CreatedSlack, 0, CreatedSkew + time.Second - time.Nanosecond} {
					if !sel.Holds(CreatedLabels(made.Add(off))) {
						t.Fatalf("a server made at %v, labelled %v off, is not held", made, off)
					}
					if from, to := sel.MadeWithin(); !from.IsZero() && made.Before(from) || !to.IsZero() && made.After(to) {
						t.Fatalf("a server made at %v is held but outside MadeWithin %v..%v", made, from, to)
					}
				}
			}
			outside := 2*CreatedSlack + time.Second
			if tt.min && sel.Holds(CreatedLabels(tt.lo.Add(-outside))) {
				t.Errorf("a server made %v before the span is held", outside)
			}
			if tt.max && sel.Holds(CreatedLabels(tt.hi.Add(outside))) {
				t.Errorf("a server made %v after the span is held", outside)
			}
			if sel.Holds(map[string]string{}) || sel.Holds(map[string]string{sel.Label: "soon"}) {
				t.Errorf("a range holds a server without the label, or with one that is no number")
			}
		})
	}
}
