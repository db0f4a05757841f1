package rules

import (
	"fmt"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

func nets(names ...string) []computev1.NetworkAttachment {
	out := []computev1.NetworkAttachment{}
	for _, n := range names {
		out = append(out, computev1.NetworkAttachment{Name: n})
	}
	return out
}

func addrs(names ...string) []computev1.ServerAddress {
	var out []computev1.ServerAddress
	for i, n := range names {
		out = append(out, computev1.ServerAddress{Network: n, Address: fmt.Sprintf("10.0.0.%d", i+2), Type: "fixed",
			NetworkNamespace: "t", NetworkName: n})
	}
	return out
}

func TestDeviceChanges(t *testing.T) {
	tests := []struct {
		name string
		vm   lifecycle.VMState
		spec []computev1.NetworkAttachment
		have []computev1.ServerAddress
		want string
	}{
		{"nothing to do", lifecycle.VMActive, nets("a", "b"), addrs("a", "b"), "[]"},
		{"an added network", lifecycle.VMActive, nets("a", "b"), addrs("a"), "[attachInterface b]"},
		{"a removed network", lifecycle.VMActive, nets("a"), addrs("a", "b"), "[detachInterface t/b]"},
		{"detaches first", lifecycle.VMStopped, nets("c"), addrs("a"), "[detachInterface t/a attachInterface c]"},
		{"a repeated entry is one interface", lifecycle.VMActive, nets("a", "a"), addrs("a"), "[]"},
		{"a build takes every network itself", lifecycle.VMBuilding, nets("a", "b"), nil, "[]"},
		{"a floating address is no interface", lifecycle.VMActive, nets(), []computev1.ServerAddress{{Network: "public", Address: "192.0.2.1", Type: "floating", NetworkName: "public"}}, "[]"},
		{"an address with no network recorded stays", lifecycle.VMActive, nets(), []computev1.ServerAddress{{Network: "old", Address: "10.1.0.2", Type: "fixed"}}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &computev1.Server{Spec: computev1.ServerSpec{Networks: tt.spec},
				Status: computev1.ServerStatus{VMState: string(tt.vm), Addresses: tt.have}}
			var got []string
			for _, c := range DeviceChanges(srv) {
				name := c.Network.Name
				if c.NetworkNamespace != "" {
					name = c.NetworkNamespace + "/" + name
				}
				got = append(got, string(c.Action), name)
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("DeviceChanges = %s, want %s", s, tt.want)
			}
		})
	}
}

func TestNextDeviceChangeWaitsForANewSpecAfterAFailure(t *testing.T) {
	srv := &computev1.Server{Spec: computev1.ServerSpec{Networks: nets("a")},
		Status: computev1.ServerStatus{VMState: string(lifecycle.VMActive)}}
	srv.Generation = 3
	srv.Status.DeviceFailure = &computev1.ServerDeviceFailure{Action: "attachInterface", Device: "a", Generation: 3}
	if _, ok := NextDeviceChange(srv); ok {
		t.Error("a failed attach is tried again for the same spec")
	}
	srv.Generation = 4
	if c, ok := NextDeviceChange(srv); !ok || c.Action != lifecycle.ActionAttachInterface {
		t.Errorf("a new spec does not try again: %+v %v", c, ok)
	}
}

func TestNetworkEditsAndActions(t *testing.T) {
	old := computev1.ServerSpec{Networks: nets("a", "b")}
	now := computev1.ServerSpec{Networks: nets("b", "c", "c")}
	added, removed := NetworkEdits(&old, &now)
	if fmt.Sprint(added, removed) != "[c] [a]" {
		t.Errorf("NetworkEdits = %v %v", added, removed)
	}
	if got := fmt.Sprint(DeviceActions(&old, &now, nil)); got != "[attachInterface detachInterface]" {
		t.Errorf("DeviceActions = %s", got)
	}
	if got := DeviceActions(&old, &old, nil); len(got) != 0 {
		t.Errorf("no edit asks for %v", got)
	}
}

func TestAssignDevice(t *testing.T) {
	srv := &computev1.Server{Spec: computev1.ServerSpec{Volumes: []computev1.VolumeAttachment{
		{ClaimName: "a", Device: "/dev/vdb"}, {ClaimName: "b"}, {ClaimName: "c", Device: "/dev/vdd"}}},
		Status: computev1.ServerStatus{VolumeAttachments: []computev1.ServerVolumeAttachment{{ClaimName: "b", Device: "/dev/vdc"}}}}
	for _, tt := range []struct{ claim, want, got, err string }{
		{"new", "", "/dev/vde", ""},
		{"new", "/dev/sdf", "/dev/vdf", ""},
		{"new", "/dev/vdc", "", "The supplied device path (/dev/vdc) is in use."},
		{"new", "/dev/vda", "", "The supplied device path (/dev/vda) is in use."},
		{"new", "/dev/", "", "The supplied device path (/dev/) is invalid."},
		{"b", "", "/dev/vdc", ""}, // its own device is free to it
		{"c", "/dev/vdd", "/dev/vdd", ""},
	} {
		got, err := AssignDevice(srv, tt.claim, tt.want)
		if got != tt.got || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("AssignDevice(%s, %q) = %q, %v; want %q, %q", tt.claim, tt.want, got, err, tt.got, tt.err)
		}
	}
}

func TestDeviceChangesOfVolumes(t *testing.T) {
	srv := &computev1.Server{Spec: computev1.ServerSpec{Networks: nets("a"), Volumes: []computev1.VolumeAttachment{{ClaimName: "new"}, {ClaimName: "kept"}}},
		Status: computev1.ServerStatus{VMState: string(lifecycle.VMShelvedOffloaded), Addresses: addrs("a"),
			VolumeAttachments: []computev1.ServerVolumeAttachment{{ClaimName: "kept"}, {ClaimName: "gone"}}}}
	var got []string
	for _, c := range DeviceChanges(srv) {
		got = append(got, string(c.Action), c.Volume.ClaimName+c.Attached.ClaimName)
	}
	if fmt.Sprint(got) != "[detachVolume gone attachVolume new]" {
		t.Errorf("DeviceChanges = %v", got)
	}
	old := computev1.ServerSpec{Networks: nets("a"), Volumes: []computev1.VolumeAttachment{{ClaimName: "x"}}}
	if got := fmt.Sprint(DeviceActions(&old, &srv.Spec, nil)); got != "[attachVolume detachVolume]" {
		t.Errorf("DeviceActions = %s", got)
	}
}

func TestVolumeSwaps(t *testing.T) {
	old := &computev1.Server{Spec: computev1.ServerSpec{Volumes: []computev1.VolumeAttachment{{ClaimName: "a"}, {ClaimName: "k", Device: "/dev/vdc"}}},
		Status: computev1.ServerStatus{VolumeAttachments: []computev1.ServerVolumeAttachment{{ClaimName: "a", Device: "/dev/vdb"}}}}
	swapped := old.DeepCopy()
	swapped.Spec.Volumes = []computev1.VolumeAttachment{{ClaimName: "b", Device: "/dev/vdb"}, {ClaimName: "k", Device: "/dev/vdc", DeleteOnTermination: true}}
	if got := fmt.Sprint(VolumeSwaps(old, swapped)); got != "[{a b}]" {
		t.Errorf("VolumeSwaps = %s", got)
	}
	if got := fmt.Sprint(DeviceActions(&old.Spec, &swapped.Spec, &old.Status)); got != "[swapVolume]" {
		t.Errorf("DeviceActions = %s", got)
	}
	if got := fmt.Sprint(DeleteOnTerminationEdits(&old.Spec, &swapped.Spec)); got != "[k]" {
		t.Errorf("DeleteOnTerminationEdits = %s", got)
	}
	// On another device, it is a detach and an attach.
	swapped.Spec.Volumes[0].Device = "/dev/vdd"
	if got := fmt.Sprint(DeviceActions(&old.Spec, &swapped.Spec, &old.Status)); got != "[attachVolume detachVolume]" {
		t.Errorf("DeviceActions = %s", got)
	}
}
