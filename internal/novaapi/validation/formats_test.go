package validation

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	const id = "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10"
	for _, s := range []string{id, "6B1C2A5E3F0D4C8E9A470E5C3B1D2F10", "{6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10}", "urn:uuid:6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10"} {
		if !IsUUIDLike(s) {
			t.Errorf("%q not uuid-like", s)
		}
		if got := CanonicalUUID(s); got != id {
			t.Errorf("CanonicalUUID(%q) = %q", s, got)
		}
	}
	for _, s := range []string{"", "cirros", id + "0", "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f1g"} {
		if IsUUIDLike(s) {
			t.Errorf("%q uuid-like", s)
		}
		if got := CanonicalUUID(s); got != s {
			t.Errorf("CanonicalUUID(%q) = %q", s, got)
		}
	}
	for s, ok := range map[string]bool{"": true, "web 1": true, " web": false, "web\t": false, "wéb": true, "a\u2028b": false, "\U0001F600": false, "a\u00a0": false} {
		if ValidName(s) != ok {
			t.Errorf("ValidName(%q) = %v", s, !ok)
		}
	}
	for s, ok := range map[string]bool{"aG\nk=": true, "aGk": false, "!!notb64": false} {
		if got, _ := CheckFormat("base64", s); got != ok {
			t.Errorf("base64 format of %q = %v", s, got)
		}
	}
}

func TestParseISOTime(t *testing.T) {
	base := time.Date(2026, 11, 22, 12, 36, 40, 0, time.UTC)
	times := map[string]time.Time{
		"2026-11-22T12:36:40Z":             base,
		"2026-11-22T12:36:40":              base,
		"2026-11-22T12:36:40.000000":       base,
		"2026-11-22T13:36:40+01:00":        base,
		"2026-11-22T13:36:40+0100":         base,
		"2026-11-22T13:36:40+01":           base.Add(0),
		"2026-11-22T12:36:40.5Z":           base.Add(500 * time.Millisecond),
		"2026-11-22":                       time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		"20261122T123640Z":                 base,
		"2026-11-22 12:36:40":              base,
		"2026-11-22T10:36:40.000000-02:00": base,
	}
	for s, want := range times {
		got, err := ParseISOTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseISOTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "2026-11-22T12:61:00Z"} {
		if _, err := ParseISOTime(bad); err == nil {
			t.Errorf("ParseISOTime(%q) accepted", bad)
		}
	}
}
