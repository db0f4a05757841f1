package rules

import (
	"reflect"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// settled is a status with no task: vm_state vm, power, flavor m1 and image cirros.
func settled(vm lifecycle.VMState, power lifecycle.PowerState) computev1.ServerStatus {
	return computev1.ServerStatus{VMState: string(vm), PowerState: int32(power), Flavor: "m1", Image: "cirros"}
}

// wants is a spec asking for power, flavor m1 and image cirros, changed by change.
func wants(power computev1.PowerState, change func(*computev1.ServerSpec)) computev1.ServerSpec {
	s := computev1.ServerSpec{PowerState: power, FlavorRef: "m1", ImageRef: "cirros"}
	if change != nil {
		change(&s)
	}
	return s
}

func TestNextSpecAction(t *testing.T) {
	resized := settled(lifecycle.VMResized, lifecycle.PowerRunning)
	resized.OldFlavor, resized.Flavor = "m0", "m1"
	tests := []struct {
		name    string
		spec    computev1.ServerSpec
		status  computev1.ServerStatus
		offload bool
		want    lifecycle.Action
	}{
		{"unseen", wants(computev1.PowerStopped, nil), computev1.ServerStatus{}, false, ""},
		{"building", wants(computev1.PowerStopped, nil), settled(lifecycle.VMBuilding, 0), false, ""},
		{"deleted", wants(computev1.PowerStopped, nil), settled(lifecycle.VMDeleted, 0), false, ""},
		{"at spec", wants(computev1.PowerActive, nil), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, ""},
		{"stop", wants(computev1.PowerStopped, nil), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionStop},
		{"start", wants(computev1.PowerActive, nil), settled(lifecycle.VMStopped, lifecycle.PowerShutdown), false, lifecycle.ActionStart},
		{"pause", wants(computev1.PowerPaused, nil), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionPause},
		{"unpause", wants(computev1.PowerActive, nil), settled(lifecycle.VMPaused, lifecycle.PowerPaused), false, lifecycle.ActionUnpause},
		{"suspend", wants(computev1.PowerSuspended, nil), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionSuspend},
		{"resume", wants(computev1.PowerActive, nil), settled(lifecycle.VMSuspended, lifecycle.PowerSuspended), false, lifecycle.ActionResume},
		{"pause from stopped is pause", wants(computev1.PowerPaused, nil), settled(lifecycle.VMStopped, lifecycle.PowerShutdown), false, lifecycle.ActionPause},
		{"shelve", wants(computev1.PowerShelved, nil), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionShelve},
		{"unshelve", wants(computev1.PowerActive, nil), settled(lifecycle.VMShelvedOffloaded, lifecycle.PowerShutdown), false, lifecycle.ActionUnshelve},
		{"stopped while shelved is unshelve", wants(computev1.PowerStopped, nil), settled(lifecycle.VMShelved, lifecycle.PowerShutdown), false, lifecycle.ActionUnshelve},
		{"offload", wants(computev1.PowerShelved, nil), settled(lifecycle.VMShelved, lifecycle.PowerShutdown), true, lifecycle.ActionShelveOffload},
		{"shelved kept", wants(computev1.PowerShelved, nil), settled(lifecycle.VMShelved, lifecycle.PowerShutdown), false, ""},
		{"shelved resize waits", wants(computev1.PowerShelved, func(s *computev1.ServerSpec) { s.FlavorRef = "m2" }),
			settled(lifecycle.VMShelvedOffloaded, lifecycle.PowerShutdown), false, lifecycle.ActionResize},
		{"rescue", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.Rescue = true }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionRescue},
		{"rescue first", wants(computev1.PowerStopped, func(s *computev1.ServerSpec) { s.Rescue = true }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionRescue},
		{"rescued runs", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.Rescue = true }), settled(lifecycle.VMRescued, lifecycle.PowerRunning), false, ""},
		{"unrescue", wants(computev1.PowerActive, nil), settled(lifecycle.VMRescued, lifecycle.PowerRunning), false, lifecycle.ActionUnrescue},
		{"resize", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.FlavorRef = "m2" }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionResize},
		{"power before resize", wants(computev1.PowerStopped, func(s *computev1.ServerSpec) { s.FlavorRef = "m2" }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionStop},
		{"rebuild", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionRebuild},
		{"resize before rebuild", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.ImageRef, s.FlavorRef = "ubuntu", "m2" }), settled(lifecycle.VMActive, lifecycle.PowerRunning), false, lifecycle.ActionResize},
		{"verify resize at spec", wants(computev1.PowerActive, nil), resized, false, ""},
		{"revert", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.FlavorRef = "m0" }), resized, false, lifecycle.ActionRevertResize},
		{"resized off wants stopped", wants(computev1.PowerStopped, nil), settled(lifecycle.VMResized, lifecycle.PowerShutdown), false, ""},
		{"resized running stop", wants(computev1.PowerStopped, nil), resized, false, lifecycle.ActionStop},
		{"error rescue", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.Rescue = true }), settled(lifecycle.VMError, 0), false, lifecycle.ActionRescue},
		{"error rebuild", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" }), settled(lifecycle.VMError, 0), false, lifecycle.ActionRebuild},
		{"error stop", wants(computev1.PowerStopped, nil), settled(lifecycle.VMError, 0), false, lifecycle.ActionStop},
		{"error stays", wants(computev1.PowerPaused, func(s *computev1.ServerSpec) { s.FlavorRef = "m2" }), settled(lifecycle.VMError, 0), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextSpecAction(&tt.spec, &tt.status, tt.offload)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NextSpecAction = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestPowerAfterAndApplyAction(t *testing.T) {
	tests := []struct {
		a      lifecycle.Action
		power  computev1.PowerState
		rescue bool
		ok     bool
	}{
		{lifecycle.ActionStop, computev1.PowerStopped, false, true},
		{lifecycle.ActionStart, computev1.PowerActive, false, true},
		{lifecycle.ActionPause, computev1.PowerPaused, false, true},
		{lifecycle.ActionUnpause, computev1.PowerActive, false, true},
		{lifecycle.ActionSuspend, computev1.PowerSuspended, false, true},
		{lifecycle.ActionResume, computev1.PowerActive, false, true},
		{lifecycle.ActionShelve, computev1.PowerShelved, false, true},
		{lifecycle.ActionUnshelve, computev1.PowerActive, false, true},
		{lifecycle.ActionRescue, computev1.PowerPaused, true, true},
		{lifecycle.ActionUnrescue, computev1.PowerPaused, false, true},
		{lifecycle.ActionResize, computev1.PowerPaused, false, false},
		{lifecycle.ActionRebootHard, computev1.PowerPaused, false, false},
		{lifecycle.ActionShelveOffload, computev1.PowerPaused, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.a), func(t *testing.T) {
			spec := computev1.ServerSpec{PowerState: computev1.PowerPaused, Rescue: tt.a == lifecycle.ActionUnrescue}
			if ok := ApplyAction(&spec, tt.a); ok != tt.ok || spec.PowerState != tt.power || spec.Rescue != tt.rescue {
				t.Errorf("ApplyAction = %v, spec %+v; want %v, power %s, rescue %v", ok, spec, tt.ok, tt.power, tt.rescue)
			}
		})
	}
}

// TestTablesAgree: from every settled state of every power state, the action the spec
// asks for to reach another power state is one that the REST shim writes as that power
// state, and the state reached reads back as it (the forward and inverse tables agree).
func TestTablesAgree(t *testing.T) {
	powers := []computev1.PowerState{computev1.PowerActive, computev1.PowerStopped, computev1.PowerPaused,
		computev1.PowerSuspended, computev1.PowerShelved}
	for _, r := range powerTable {
		for _, vm := range r.vms {
			if got := PowerOf(vm, 0); got != r.power {
				t.Errorf("PowerOf(%s) = %s, want %s", vm, got, r.power)
			}
			for _, want := range powers {
				st := settled(vm, 0)
				spec := wants(want, nil)
				a, ok := NextSpecAction(&spec, &st, false)
				if (want == r.power) == ok {
					t.Errorf("from %s to %s: action %q, %v", vm, want, a, ok)
					continue
				}
				if !ok {
					continue
				}
				// Leaving a shelf is unshelving, whatever power is asked for after it.
				after, _ := PowerAfter(a)
				unshelved := r.power == computev1.PowerShelved && after == computev1.PowerActive
				if after != want && !unshelved {
					t.Errorf("from %s to %s: %s writes %s", vm, want, a, after)
				}
			}
		}
	}
}

func TestDesiredFromStatus(t *testing.T) {
	tests := []struct {
		vm     lifecycle.VMState
		power  lifecycle.PowerState
		want   computev1.PowerState
		rescue bool
	}{
		{lifecycle.VMActive, lifecycle.PowerRunning, computev1.PowerActive, false},
		{lifecycle.VMStopped, lifecycle.PowerShutdown, computev1.PowerStopped, false},
		{lifecycle.VMPaused, lifecycle.PowerPaused, computev1.PowerPaused, false},
		{lifecycle.VMSuspended, lifecycle.PowerSuspended, computev1.PowerSuspended, false},
		{lifecycle.VMShelved, lifecycle.PowerShutdown, computev1.PowerShelved, false},
		{lifecycle.VMShelvedOffloaded, lifecycle.PowerShutdown, computev1.PowerShelved, false},
		{lifecycle.VMResized, lifecycle.PowerRunning, computev1.PowerActive, false},
		{lifecycle.VMResized, lifecycle.PowerShutdown, computev1.PowerStopped, false},
		{lifecycle.VMRescued, lifecycle.PowerRunning, computev1.PowerActive, true},
		{lifecycle.VMError, lifecycle.PowerShutdown, computev1.PowerActive, false},
	}
	for _, tt := range tests {
		srv := &computev1.Server{
			Spec:   computev1.ServerSpec{FlavorRef: "m2", ImageRef: "ubuntu", PowerState: computev1.PowerShelved, Rescue: !tt.rescue, KeyName: "k"},
			Status: settled(tt.vm, tt.power),
		}
		got := DesiredFromStatus(srv)
		want := computev1.ServerSpec{FlavorRef: "m1", ImageRef: "cirros", PowerState: tt.want, Rescue: tt.rescue, KeyName: "k"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s/%s: DesiredFromStatus = %+v, want %+v", tt.vm, tt.power, got, want)
		}
	}
}

func TestChangedActions(t *testing.T) {
	active := computev1.Server{Spec: wants(computev1.PowerActive, nil), Status: settled(lifecycle.VMActive, lifecycle.PowerRunning)}
	tests := []struct {
		name   string
		old    computev1.Server
		change func(*computev1.ServerSpec)
		want   []lifecycle.Action
	}{
		{"nothing", active, func(*computev1.ServerSpec) {}, nil},
		{"metadata", active, func(s *computev1.ServerSpec) { s.Metadata = map[string]string{"a": "b"} }, nil},
		{"stop", active, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped }, []lifecycle.Action{lifecycle.ActionStop}},
		{"each aspect alone", active, func(s *computev1.ServerSpec) {
			s.PowerState, s.FlavorRef, s.ImageRef, s.Rescue, s.Locked = computev1.PowerStopped, "m2", "ubuntu", true, true
		}, []lifecycle.Action{lifecycle.ActionRescue, lifecycle.ActionStop, lifecycle.ActionResize, lifecycle.ActionRebuild, lifecycle.ActionLock}},
		{"unlock", computev1.Server{Spec: wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.Locked = true }), Status: active.Status},
			func(s *computev1.ServerSpec) { s.Locked = false }, []lifecycle.Action{lifecycle.ActionUnlock}},
		{"back to what it is", computev1.Server{Spec: wants(computev1.PowerStopped, nil), Status: active.Status},
			func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive }, nil},
		{"revert", computev1.Server{Spec: wants(computev1.PowerActive, nil),
			Status: func() computev1.ServerStatus {
				st := settled(lifecycle.VMResized, lifecycle.PowerRunning)
				st.OldFlavor = "m0"
				return st
			}()}, func(s *computev1.ServerSpec) { s.FlavorRef = "m0" }, []lifecycle.Action{lifecycle.ActionRevertResize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.old.DeepCopy()
			tt.change(&srv.Spec)
			if got := ChangedActions(&tt.old, srv); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ChangedActions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAtDesiredState(t *testing.T) {
	tests := []struct {
		name string
		srv  computev1.Server
		want bool
	}{
		{"active as asked", computev1.Server{Spec: wants(computev1.PowerActive, nil), Status: settled(lifecycle.VMActive, lifecycle.PowerRunning)}, true},
		{"asked to stop", computev1.Server{Spec: wants(computev1.PowerStopped, nil), Status: settled(lifecycle.VMActive, lifecycle.PowerRunning)}, false},
		{"verify resize waits for a confirm", computev1.Server{Spec: wants(computev1.PowerActive, nil), Status: settled(lifecycle.VMResized, lifecycle.PowerRunning)}, false},
	}
	for _, tt := range tests {
		if got := AtDesiredState(&tt.srv); got != tt.want {
			t.Errorf("%s: AtDesiredState = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPowerRoute(t *testing.T) {
	tests := []struct {
		from, to computev1.PowerState
		want     []lifecycle.Action
	}{
		{"", "", nil},
		{"", computev1.PowerActive, nil},
		{computev1.PowerStopped, computev1.PowerStopped, nil},
		{"", computev1.PowerStopped, []lifecycle.Action{lifecycle.ActionStop}},
		{computev1.PowerActive, computev1.PowerShelved, []lifecycle.Action{lifecycle.ActionShelve}},
		{computev1.PowerStopped, "", []lifecycle.Action{lifecycle.ActionStart}},
		{computev1.PowerSuspended, computev1.PowerActive, []lifecycle.Action{lifecycle.ActionResume}},
		{computev1.PowerShelved, computev1.PowerActive, []lifecycle.Action{lifecycle.ActionUnshelve}},
		{computev1.PowerPaused, computev1.PowerSuspended, []lifecycle.Action{lifecycle.ActionUnpause, lifecycle.ActionSuspend}},
		{computev1.PowerShelved, computev1.PowerStopped, []lifecycle.Action{lifecycle.ActionUnshelve, lifecycle.ActionStop}},
	}
	for _, tt := range tests {
		if got := PowerRoute(tt.from, tt.to); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("PowerRoute(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}
