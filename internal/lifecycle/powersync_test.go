package lifecycle

import "testing"

func TestSyncPowerState(t *testing.T) {
	for _, tc := range []struct {
		vm       VMState
		observed PowerState
		stop     bool
		logged   bool
	}{
		{VMActive, PowerRunning, false, false},
		{VMActive, PowerShutdown, true, true},
		{VMActive, PowerCrashed, true, true},
		{VMActive, PowerSuspended, true, true},
		{VMActive, PowerPaused, false, true},
		{VMActive, PowerNoState, false, true},
		{VMStopped, PowerShutdown, false, false},
		{VMStopped, PowerCrashed, false, false},
		{VMStopped, PowerNoState, false, false},
		{VMStopped, PowerRunning, true, true},
		{VMStopped, PowerPaused, true, true},
		{VMStopped, PowerSuspended, true, true},
		{VMPaused, PowerPaused, false, false},
		{VMPaused, PowerShutdown, true, true},
		{VMPaused, PowerCrashed, true, true},
		{VMPaused, PowerRunning, false, false},
		{VMSuspended, PowerRunning, false, false},
		{VMSuspended, PowerShutdown, false, false},
		{VMRescued, PowerRunning, false, false},
		{VMResized, PowerShutdown, false, false},
		{VMError, PowerRunning, false, false},
		{VMBuilding, PowerNoState, false, false},
		{VMShelved, PowerRunning, false, false},
		{VMShelvedOffloaded, PowerShutdown, false, false},
		{VMSoftDeleted, PowerRunning, false, true},
		{VMSoftDeleted, PowerShutdown, false, false},
		{VMDeleted, PowerNoState, false, false},
	} {
		got := SyncPowerState(tc.vm, tc.observed)
		if got.Power != tc.observed {
			t.Errorf("%s/%s: power %s, want the hypervisor's %s", tc.vm, tc.observed, got.Power, tc.observed)
		}
		if got.Stop != tc.stop {
			t.Errorf("%s/%s: stop %v, want %v", tc.vm, tc.observed, got.Stop, tc.stop)
		}
		if (got.Log != "") != tc.logged {
			t.Errorf("%s/%s: log %q, want logged %v", tc.vm, tc.observed, got.Log, tc.logged)
		}
	}
}

// A stop the sync calls starts from any vm_state it is called in and ends SHUTOFF, as
// Nova's force_stop does.
func TestSyncStopEndsShutoff(t *testing.T) {
	for _, vm := range []VMState{VMActive, VMStopped, VMPaused} {
		begun := Begin(ActionStop, State{VM: vm, Power: PowerRunning})
		if begun.Task != TaskPoweringOff {
			t.Errorf("stop from %s shows task %q, want powering-off", vm, begun.Task)
		}
		end := Finish(ActionStop, begun, "")
		if end != (State{VM: VMStopped, Power: PowerShutdown}) || Status(end.VM, end.Task) != "SHUTOFF" {
			t.Errorf("stop from %s ends %+v", vm, end)
		}
	}
}
