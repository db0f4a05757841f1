package rules

import (
	"strconv"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A server's creation-time labels (computev1.LabelCreated*): which buckets a server is in,
// and the label selector that holds every server made between two times, so that the REST
// shim can check a page of servers in creation order against the API server without
// listing the whole fleet.

// createdLevel is one width of bucket and the label that holds it.
type createdLevel struct {
	label string
	width int64 // seconds
}

// createdLevels are the widths, finest first: 1 s, about 17 minutes, about 28 hours, about
// 116 days. Selections use the finest alone (a range of integers needs no coarser
// bucket); the others are still stamped, and kept, for servers and clients that have them.
var createdLevels = []createdLevel{
	{computev1.LabelCreated1s, 1},
	{computev1.LabelCreated1e3s, 1_000},
	{computev1.LabelCreated1e5s, 100_000},
	{computev1.LabelCreated1e7s, 10_000_000},
}

// CreatedSlack is how far a server's creationTimestamp may lie after the time its labels
// were stamped, and CreatedSkew how far before. The webhook stamps its clock's second in
// admission; the API server sets creationTimestamp after admission from its own clock, cut
// to whole seconds: the label's second is never after creationTimestamp's but for the skew
// of the two clocks, and before it by admission's latency plus the skew. One second of skew
// assumes the clocks of one cluster within a second of each other, as NTP keeps them, and
// two of slack an admission within a second; a server labelled further off may be shown
// from a stale cache, or not until the cache has it, on the page of its span.
const (
	CreatedSlack = 2 * time.Second
	CreatedSkew  = time.Second
)

// CreatedLabelKeys are the keys of the creation-time labels.
func CreatedLabelKeys() []string {
	out := make([]string, len(createdLevels))
	for i, l := range createdLevels {
		out[i] = l.label
	}
	return out
}

// CreatedLabels are the creation-time labels of a server made at t.
func CreatedLabels(t time.Time) map[string]string {
	out := make(map[string]string, len(createdLevels))
	for _, l := range createdLevels {
		out[l.label] = strconv.FormatInt(bucketOf(t, l.width), 10)
	}
	return out
}

func bucketOf(t time.Time, width int64) int64 {
	u := t.Unix()
	b := u - u%width
	if b > u { // before 1970
		b -= width
	}
	return b
}

// CreatedSelection is a range of creation seconds in the finest label
// (computev1.LabelCreated1s) as a label selector: `label > Min-1` and `label < Max+1`, the
// API server's integer comparisons, so its size does not depend on the span. A server
// without the label (made before Kova stamped it) is in no range: whoever lists a selection
// lists those too. Every server whose creationTimestamp Covers is in it.
type CreatedSelection struct {
	Label string
	// Min and Max bound the label's value, inclusive; nil is unbounded.
	Min, Max *int64
	// from and to bound the creation times covered; zero is unbounded.
	from, to time.Time
}

// Covers says whether every server made at t is in the selection.
func (s CreatedSelection) Covers(t time.Time) bool {
	return (s.from.IsZero() || !t.Before(s.from)) && (s.to.IsZero() || t.Before(s.to))
}

// Holds says whether a server with these labels is in the selection, as the API server
// would answer the selector.
func (s CreatedSelection) Holds(labels map[string]string) bool {
	v, ok := labels[s.Label]
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false
	}
	return (s.Min == nil || n >= *s.Min) && (s.Max == nil || n <= *s.Max)
}

// CreatedSelectionFor is the selection that covers every server made from lo to hi
// (inclusive); a zero lo means from the beginning, and a hi at or after now means up to
// whatever is made next. It says false when that would hold every server.
func CreatedSelectionFor(lo, hi, now time.Time) (CreatedSelection, bool) {
	s := CreatedSelection{Label: computev1.LabelCreated1s}
	if !lo.IsZero() {
		first := bucketOf(lo.Add(-CreatedSlack), 1)
		s.Min, s.from = &first, time.Unix(first, 0).Add(CreatedSlack)
	}
	if hi.Before(now) {
		last := bucketOf(hi.Add(CreatedSkew), 1)
		s.Max, s.to = &last, time.Unix(last+1, 0).Add(-CreatedSkew)
	}
	return s, s.Min != nil || s.Max != nil
}

// MadeWithin bounds the creation times of the servers the selection can hold, whose labels
// are within CreatedSkew after and CreatedSlack before their creationTimestamp: from (zero:
// unbounded) to to (zero: unbounded), inclusive.
func (s CreatedSelection) MadeWithin() (from, to time.Time) {
	if s.Min != nil {
		from = time.Unix(*s.Min, 0).Add(-CreatedSkew)
	}
	if s.Max != nil {
		to = time.Unix(*s.Max+1, 0).Add(CreatedSlack)
	}
	return from, to
}

// CoversSpan says whether every server made from lo to hi (a zero lo: from the first) is
// in the selection.
func (s CreatedSelection) CoversSpan(lo, hi time.Time) bool {
	if lo.IsZero() {
		return s.from.IsZero() && s.Covers(hi)
	}
	return s.Covers(lo) && s.Covers(hi)
}
