// Package alloc measures heap allocation for tests that bound what a request may cost. It
// has no dependencies, so pure packages' tests can use it without the test stacks.
package alloc

import "runtime"

// By is how many bytes f allocated on the heap, all goroutines together.
func By(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
