package microversion

import "testing"

func TestVersion(t *testing.T) {
	v := V2(47)
	if v.String() != "2.47" {
		t.Errorf("String() = %s", v)
	}
	for minor, want := range map[int]bool{1: true, 46: true, 47: true, 48: false} {
		if v.AtLeast(minor) != want {
			t.Errorf("2.47 at least 2.%d: %v", minor, !want)
		}
	}
	for minor, want := range map[int]bool{46: false, 47: true, 79: true} {
		if v.AtMost(minor) != want {
			t.Errorf("2.47 at most 2.%d: %v", minor, !want)
		}
	}
	if !Min.Less(v) || v.Less(Min) || v.Less(v) || !v.Less(Max) {
		t.Error("Less does not order 2.1 < 2.47 < 2.79")
	}
	if !(Version{Major: 3}).AtLeast(99) || (Version{Major: 1, Minor: 99}).AtLeast(1) {
		t.Error("the major version does not come first")
	}
}
