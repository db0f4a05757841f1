package rules

import (
	"strconv"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A server's creation-time labels (computev1.LabelCreated*): which buckets a server is in,
// and which buckets hold every server made between two times, so that the REST shim can
// check a page of servers in creation order against the API server without listing the
// whole fleet.

// createdLevel is one width of bucket and the label that holds it.
type createdLevel struct {
	label string
	width int64 // seconds
}

// createdLevels are the widths, finest first: 1 s, about 17 minutes, about 28 hours, about
// 116 days. A page of 1,000 servers made at 100 a second spans 10 s.
var createdLevels = []createdLevel{
	{computev1.LabelCreated1s, 1},
	{computev1.LabelCreated1e3s, 1_000},
	{computev1.LabelCreated1e5s, 100_000},
	{computev1.LabelCreated1e7s, 10_000_000},
}

// CreatedSlack is how far a server's creationTimestamp may lie from the time its labels
// were stamped. The webhook stamps its clock's time in admission; the API server sets
// creationTimestamp a moment later from its own, cut to whole seconds: the label is at
// most a second after (plus the skew of the two clocks) and a moment before (plus the
// skew). Two seconds assume the clocks of one cluster within a second of each other, as
// NTP keeps them; a server labelled further off may be shown from a stale cache, or not
// until the cache has it, on the page of its span.
const CreatedSlack = 2 * time.Second

// maxCreatedBuckets bounds the values of one selection, so its label selector stays within
// a few kilobytes of query (about 4 minutes of 1 s buckets).
const maxCreatedBuckets = 256

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

// CreatedSelection is a set of creation-time buckets of one width, as a label selector:
// `Label in (Values)`, or, with NotIn, `Label notin (Values)`, which also holds servers
// without the label (made before Kova stamped it). Every server whose creationTimestamp
// Covers is in it.
type CreatedSelection struct {
	Label  string
	Values []string
	NotIn  bool
	// from and to bound the creation times covered; a zero from is unbounded.
	from, to time.Time
}

// Covers says whether every server made at t is in the selection.
func (s CreatedSelection) Covers(t time.Time) bool {
	return (s.from.IsZero() || !t.Before(s.from)) && t.Before(s.to)
}

// Holds says whether a server with these labels is in the selection, as the API server
// would answer the selector.
func (s CreatedSelection) Holds(labels map[string]string) bool {
	v, ok := labels[s.Label]
	in := false
	if ok {
		for _, x := range s.Values {
			if x == v {
				in = true
				break
			}
		}
	}
	return in != s.NotIn
}

// CreatedSelectionFor is the finest selection that covers every server made from lo to hi
// (inclusive); a zero lo means from the beginning, and then the selection is the buckets
// after hi's, up to now's, left out. It says false when no width keeps the selection within
// maxCreatedBuckets values, or when it would hold every server.
func CreatedSelectionFor(lo, hi, now time.Time) (CreatedSelection, bool) {
	hi, now = hi.Add(CreatedSlack), now.Add(CreatedSlack)
	if hi.After(now) {
		now = hi
	}
	for _, l := range createdLevels {
		w := l.width
		if lo.IsZero() {
			// Every bucket after hi's, up to the one of now (nothing is made later).
			first, last := bucketOf(hi, w)+w, bucketOf(now, w)
			if n := (last-first)/w + 1; n > maxCreatedBuckets {
				continue
			}
			if last < first {
				return CreatedSelection{}, false // no bucket to leave out: that is every server
			}
			s := CreatedSelection{Label: l.label, NotIn: true, to: time.Unix(first, 0).Add(-CreatedSlack)}
			for b := first; b <= last; b += w {
				s.Values = append(s.Values, strconv.FormatInt(b, 10))
			}
			return s, true
		}
		from := lo.Add(-CreatedSlack)
		first, last := bucketOf(from, w), bucketOf(hi, w)
		if n := (last-first)/w + 1; n > maxCreatedBuckets {
			continue
		}
		s := CreatedSelection{Label: l.label,
			from: time.Unix(first, 0).Add(CreatedSlack), to: time.Unix(last+w, 0).Add(-CreatedSlack)}
		for b := first; b <= last; b += w {
			s.Values = append(s.Values, strconv.FormatInt(b, 10))
		}
		return s, true
	}
	return CreatedSelection{}, false
}

// CoversSpan says whether every server made from lo to hi (a zero lo: from the first) is
// in the selection.
func (s CreatedSelection) CoversSpan(lo, hi time.Time) bool {
	if lo.IsZero() {
		return s.from.IsZero() && hi.Before(s.to)
	}
	return s.Covers(lo) && s.Covers(hi)
}
