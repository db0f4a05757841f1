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
			// With nothing carried out on record, what the server is counts as carried out.
			got, ok := NextSpecAction(&tt.spec, &tt.status, Applied(&tt.status), tt.offload)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NextSpecAction = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestNextSpecActionFromApplied: an action starts for a field that moved away from what
// was last carried out, never for one an imperative action took elsewhere.
func TestNextSpecActionFromApplied(t *testing.T) {
	carried := func(power computev1.PowerState, change func(*computev1.ServerApplied)) computev1.ServerApplied {
		a := computev1.ServerApplied{PowerState: power, FlavorRef: "m1", ImageRef: "cirros"}
		if change != nil {
			change(&a)
		}
		return a
	}
	resized := settled(lifecycle.VMResized, lifecycle.PowerRunning)
	resized.OldFlavor, resized.Flavor = "m1", "m2"
	tests := []struct {
		name    string
		spec    computev1.ServerSpec
		applied computev1.ServerApplied
		status  computev1.ServerStatus
		want    lifecycle.Action
	}{
		{"rebuilt by an action: not undone", wants(computev1.PowerActive, nil), carried(computev1.PowerActive, nil),
			func() computev1.ServerStatus {
				st := settled(lifecycle.VMActive, lifecycle.PowerRunning)
				st.Image = "ubuntu"
				return st
			}(), ""},
		{"reverted by an action: not resized again", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.FlavorRef = "m2" }),
			carried(computev1.PowerActive, func(a *computev1.ServerApplied) { a.FlavorRef = "m2" }), settled(lifecycle.VMActive, lifecycle.PowerRunning), ""},
		{"stopped by an action: not started", wants(computev1.PowerActive, nil), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMStopped, lifecycle.PowerShutdown), ""},
		{"a new power state starts", wants(computev1.PowerStopped, nil), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMActive, lifecycle.PowerRunning), lifecycle.ActionStop},
		{"a new power state the server has", wants(computev1.PowerStopped, nil), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMStopped, lifecycle.PowerShutdown), ""},
		{"a new flavor", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.FlavorRef = "m3" }), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMActive, lifecycle.PowerRunning), lifecycle.ActionResize},
		{"a new image", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" }), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMActive, lifecycle.PowerRunning), lifecycle.ActionRebuild},
		{"the old flavor during VERIFY_RESIZE is a revert", wants(computev1.PowerActive, nil),
			carried(computev1.PowerActive, func(a *computev1.ServerApplied) { a.FlavorRef = "m2" }), resized, lifecycle.ActionRevertResize},
		{"rescued by an action: not unrescued", wants(computev1.PowerActive, nil), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMRescued, lifecycle.PowerRunning), ""},
		{"unshelve on the way to stopped", wants(computev1.PowerStopped, nil), carried(computev1.PowerShelved, nil),
			settled(lifecycle.VMShelvedOffloaded, lifecycle.PowerShutdown), lifecycle.ActionUnshelve},
		{"then the stop", wants(computev1.PowerStopped, nil), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMActive, lifecycle.PowerRunning), lifecycle.ActionStop},
		{"error: a rebuild asked before", wants(computev1.PowerActive, nil), carried(computev1.PowerActive, nil),
			func() computev1.ServerStatus { st := settled(lifecycle.VMError, 0); st.Image = "ubuntu"; return st }(), ""},
		{"error: a new image", wants(computev1.PowerActive, func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" }), carried(computev1.PowerActive, nil),
			settled(lifecycle.VMError, 0), lifecycle.ActionRebuild},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := NextSpecAction(&tt.spec, &tt.status, tt.applied, false)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NextSpecAction = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestAfterAction(t *testing.T) {
	spec := wants(computev1.PowerStopped, func(s *computev1.ServerSpec) {
		s.FlavorRef, s.ImageRef, s.Rescue, s.Locked, s.LockedReason = "m2", "ubuntu", true, true, "why"
	})
	before := computev1.ServerApplied{PowerState: computev1.PowerShelved, FlavorRef: "m1", ImageRef: "cirros"}
	tests := []struct {
		a    lifecycle.Action
		want func(*computev1.ServerApplied)
	}{
		{lifecycle.ActionStop, func(a *computev1.ServerApplied) { a.PowerState = computev1.PowerStopped }},
		{lifecycle.ActionUnshelve, func(a *computev1.ServerApplied) { a.PowerState = computev1.PowerActive }},
		{lifecycle.ActionResize, func(a *computev1.ServerApplied) { a.FlavorRef = "m2" }},
		{lifecycle.ActionRevertResize, func(a *computev1.ServerApplied) { a.FlavorRef = "m2" }},
		{lifecycle.ActionRebuild, func(a *computev1.ServerApplied) { a.ImageRef = "ubuntu" }},
		{lifecycle.ActionRescue, func(a *computev1.ServerApplied) { a.Rescue = true }},
		{lifecycle.ActionLock, func(a *computev1.ServerApplied) { a.Locked, a.LockedReason = true, "why" }},
		{lifecycle.ActionShelveOffload, func(*computev1.ServerApplied) {}},
	}
	for _, tt := range tests {
		want := before
		tt.want(&want)
		if got := AfterAction(before, &spec, tt.a); got != want {
			t.Errorf("%s: AfterAction = %+v, want %+v", tt.a, got, want)
		}
	}
}

func TestLockChange(t *testing.T) {
	tests := []struct {
		name    string
		locked  bool
		reason  string
		applied computev1.ServerApplied
		want    lifecycle.Action
	}{
		{"unchanged", true, "why", computev1.ServerApplied{Locked: true, LockedReason: "why"}, ""},
		{"a reason on an unlocked server is nothing", false, "why", computev1.ServerApplied{}, ""},
		{"lock", true, "", computev1.ServerApplied{}, lifecycle.ActionLock},
		{"a new reason", true, "other", computev1.ServerApplied{Locked: true, LockedReason: "why"}, lifecycle.ActionLock},
		{"unlock", false, "", computev1.ServerApplied{Locked: true}, lifecycle.ActionUnlock},
	}
	for _, tt := range tests {
		spec := computev1.ServerSpec{Locked: tt.locked, LockedReason: tt.reason}
		if got, ok := LockChange(&spec, tt.applied); got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: LockChange = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

func TestCarriesOut(t *testing.T) {
	for vm, want := range map[lifecycle.VMState]bool{"": false, lifecycle.VMBuilding: false, lifecycle.VMError: false,
		lifecycle.VMDeleted: false, lifecycle.VMActive: true, lifecycle.VMStopped: true, lifecycle.VMResized: true,
		lifecycle.VMShelvedOffloaded: true} {
		if got := CarriesOut(&computev1.ServerStatus{VMState: string(vm)}); got != want {
			t.Errorf("CarriesOut(%s) = %v", vm, got)
		}
	}
}

func TestPowerAfter(t *testing.T) {
	tests := []struct {
		a     lifecycle.Action
		power computev1.PowerState
		ok    bool
	}{
		{lifecycle.ActionStop, computev1.PowerStopped, true},
		{lifecycle.ActionStart, computev1.PowerActive, true},
		{lifecycle.ActionPause, computev1.PowerPaused, true},
		{lifecycle.ActionUnpause, computev1.PowerActive, true},
		{lifecycle.ActionSuspend, computev1.PowerSuspended, true},
		{lifecycle.ActionResume, computev1.PowerActive, true},
		{lifecycle.ActionShelve, computev1.PowerShelved, true},
		{lifecycle.ActionUnshelve, computev1.PowerActive, true},
		{lifecycle.ActionRescue, "", false},
		{lifecycle.ActionResize, "", false},
		{lifecycle.ActionRebootHard, "", false},
		{lifecycle.ActionShelveOffload, "", false},
	}
	for _, tt := range tests {
		if p, ok := PowerAfter(tt.a); ok != tt.ok || p != tt.power {
			t.Errorf("PowerAfter(%s) = %s, %v; want %s, %v", tt.a, p, ok, tt.power, tt.ok)
		}
	}
}

// TestTablesAgree: from every settled state of every power state, the action the spec
// asks for to reach another power state is one that records that power state as carried
// out, and the state reached reads back as it (the forward and inverse tables agree).
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
				a, ok := NextSpecAction(&spec, &st, Observed(&st), false)
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

func TestObserved(t *testing.T) {
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
		st := settled(tt.vm, tt.power)
		st.Locked, st.LockedReason = true, "why"
		want := computev1.ServerApplied{FlavorRef: "m1", ImageRef: "cirros", PowerState: tt.want, Rescue: tt.rescue, Locked: true, LockedReason: "why"}
		if got := Observed(&st); got != want {
			t.Errorf("%s/%s: Observed = %+v, want %+v", tt.vm, tt.power, got, want)
		}
		if got := Applied(&st); got != want {
			t.Errorf("%s/%s: Applied with none on record = %+v, want %+v", tt.vm, tt.power, got, want)
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
		{"stopped by an action, then asked to stop", computev1.Server{Spec: wants(computev1.PowerActive, nil),
			Status: func() computev1.ServerStatus {
				st := settled(lifecycle.VMStopped, lifecycle.PowerShutdown)
				st.Applied = &computev1.ServerApplied{PowerState: computev1.PowerActive, FlavorRef: "m1", ImageRef: "cirros"}
				return st
			}()}, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped }, nil},
		{"stopped by an action, then asked to pause", computev1.Server{Spec: wants(computev1.PowerActive, nil),
			Status: func() computev1.ServerStatus {
				st := settled(lifecycle.VMStopped, lifecycle.PowerShutdown)
				st.Applied = &computev1.ServerApplied{PowerState: computev1.PowerActive, FlavorRef: "m1", ImageRef: "cirros"}
				return st
			}()}, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerPaused }, []lifecycle.Action{lifecycle.ActionPause}},
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
