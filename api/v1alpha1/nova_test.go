package v1alpha1

import (
	"errors"
	"testing"
)

func TestParseAvailabilityZone(t *testing.T) {
	tests := []struct {
		az, zone, host, node string
		forces               bool
		err                  error
	}{
		{az: ""},
		{az: "nova", zone: "nova"},
		{az: "nova:sim-host-1", zone: "nova", host: "sim-host-1", forces: true},
		{az: "nova:sim-host-1:sim-host-1", zone: "nova", host: "sim-host-1", node: "sim-host-1", forces: true},
		{az: "nova::sim-host-2", zone: "nova", node: "sim-host-2", forces: true},
		{az: ":sim-host-1", host: "sim-host-1", forces: true},
		{az: "::node", node: "node", forces: true},
		{az: "nova:", zone: "nova"},                            // Nova: host "" forces nothing
		{az: "nova::", zone: "nova"},                           // nor does node ""
		{az: "nova:h:", zone: "nova", host: "h", forces: true}, // host without a node
		{az: ":", zone: ""},
		{az: "a:b:c:d", err: ErrZoneUnparsable},
		{az: "nova:::", err: ErrZoneUnparsable},
	}
	for _, tt := range tests {
		zone, host, node, err := ParseAvailabilityZone(tt.az)
		if zone != tt.zone || host != tt.host || node != tt.node || !errors.Is(err, tt.err) {
			t.Errorf("ParseAvailabilityZone(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				tt.az, zone, host, node, err, tt.zone, tt.host, tt.node, tt.err)
		}
		if got := ForcesHost(tt.az); got != tt.forces {
			t.Errorf("ForcesHost(%q) = %v, want %v", tt.az, got, tt.forces)
		}
	}
	if ErrZoneUnparsable.Error() != "Unable to parse availability_zone" {
		t.Errorf("reason %q is not Nova's", ErrZoneUnparsable)
	}
}
