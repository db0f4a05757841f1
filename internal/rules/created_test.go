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
// CreatedSlack off, is in the selection; the finest width that fits is chosen.
func TestCreatedSelectionFor(t *testing.T) {
	now := time.Unix(1764558123, 0)
	for _, tt := range []struct {
		name   string
		lo, hi time.Time
		label  string
		notIn  bool
		values int
		ok     bool
	}{
		{"ten seconds", now.Add(-10 * time.Minute), now.Add(-10*time.Minute + 10*time.Second), computev1.LabelCreated1s, false, 15, true},
		{"up to now", now.Add(-100 * time.Second), now, computev1.LabelCreated1s, false, 105, true},
		{"a day", now.Add(-24 * time.Hour), now.Add(-23 * time.Hour), computev1.LabelCreated1e3s, false, 0, true},
		{"a year", now.Add(-365 * 24 * time.Hour), now, computev1.LabelCreated1e7s, false, 0, true},
		{"from the start, a minute ago", time.Time{}, now.Add(-time.Minute), computev1.LabelCreated1s, true, 0, true},
		{"from the start to now", time.Time{}, now, "", false, 0, false},
		{"a century", now.Add(-100 * 365 * 24 * time.Hour), now, "", false, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sel, ok := CreatedSelectionFor(tt.lo, tt.hi, now)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if sel.Label != tt.label || sel.NotIn != tt.notIn || tt.values > 0 && len(sel.Values) != tt.values {
				t.Errorf("selection %s notin=%v %d values, want %s notin=%v %d", sel.Label, sel.NotIn, len(sel.Values), tt.label, tt.notIn, tt.values)
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
				for _, skew := range []time.Duration{-CreatedSlack, 0, CreatedSlack - time.Nanosecond} {
					if !sel.Holds(CreatedLabels(made.Add(skew))) {
						t.Fatalf("a server made at %v, labelled %v off, is not held", made, skew)
					}
				}
			}
			if !sel.NotIn && sel.Holds(map[string]string{}) {
				t.Errorf("an in selection holds a server without the label")
			}
			if sel.NotIn && !sel.Holds(map[string]string{}) {
				t.Errorf("a notin selection does not hold a server without the label")
			}
		})
	}
}
