// Package microversion is the compute API's microversion, 2.x: what a request asked for
// (novaapi reads it from the headers) and what the schemas and views change on.
package microversion

import "fmt"

// Version is a compute API microversion.
type Version struct{ Major, Minor int }

// V2 is microversion 2.minor.
func V2(minor int) Version { return Version{Major: 2, Minor: minor} }

// The microversions Kova serves. The maximum is the highest microversion whose every
// change Kova implements, or answers as Nova would (a 501 for what it lacks): 2.79.
// Past it, 2.80-2.93 add filters, fields and behaviours (2.83's non-admin filters, 2.90's
// hostname, 2.92's import-only keypairs) that are not built yet.
var (
	Min = V2(1)
	Max = V2(79)
)

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast says whether v is 2.minor or later.
func (v Version) AtLeast(minor int) bool {
	return v.Major > 2 || (v.Major == 2 && v.Minor >= minor)
}

// AtMost says whether v is 2.minor or earlier.
func (v Version) AtMost(minor int) bool {
	return v.Major < 2 || (v.Major == 2 && v.Minor <= minor)
}

// Less says whether v comes before o.
func (v Version) Less(o Version) bool {
	return v.Major < o.Major || (v.Major == o.Major && v.Minor < o.Minor)
}
