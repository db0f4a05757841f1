package views

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Nova's two time formats: utils.isotime for created/updated ("2026-11-22T12:36:40Z"),
// and str() of a naive datetime through its JSON serializer for the OS-SRV-USG stamps,
// instance actions and keypairs ("2026-11-22T12:36:41.000000").
const (
	isoTimeLayout = "2006-01-02T15:04:05Z"
	naiveLayout   = "2006-01-02T15:04:05.000000"
)

// ISOTime is t as Nova's created and updated fields show it.
func ISOTime(t time.Time) string { return t.UTC().Format(isoTimeLayout) }

// NaiveTime is t as Nova's naive datetimes show it.
func NaiveTime(t time.Time) string { return t.UTC().Format(naiveLayout) }

// NaiveOrNull is an optional timestamp in the naive format, or null.
func NaiveOrNull(t *metav1.Time) Opt[string] {
	if t == nil || t.IsZero() {
		return Null[string]()
	}
	return Some(NaiveTime(t.Time))
}
