package lifecycle

import (
	"slices"
	"testing"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		vm   VMState
		task TaskState
		want string
	}{
		// Settled states (transcript + sample server_*.json bodies).
		{VMBuilding, TaskNone, "BUILD"},
		{VMActive, TaskNone, "ACTIVE"},
		{VMStopped, TaskNone, "SHUTOFF"},
		{VMPaused, TaskNone, "PAUSED"},
		{VMSuspended, TaskNone, "SUSPENDED"},
		{VMRescued, TaskNone, "RESCUE"},
		{VMResized, TaskNone, "VERIFY_RESIZE"},
		{VMShelved, TaskNone, "SHELVED"},
		{VMShelvedOffloaded, TaskNone, "SHELVED_OFFLOADED"},
		{VMError, TaskNone, "ERROR"},
		{VMDeleted, TaskNone, "DELETED"},
		{VMSoftDeleted, TaskNone, "SOFT_DELETED"},

		// Build: every build step is BUILD.
		{VMBuilding, TaskScheduling, "BUILD"},
		{VMBuilding, TaskNetworking, "BUILD"},
		{VMBuilding, TaskBlockDeviceMapping, "BUILD"},
		{VMBuilding, TaskSpawning, "BUILD"},
		{VMBuilding, TaskDeleting, "BUILD"},

		// active overrides.
		{VMActive, TaskRebooting, "REBOOT"},
		{VMActive, TaskRebootPending, "REBOOT"},
		{VMActive, TaskRebootStarted, "REBOOT"},
		{VMActive, TaskRebootingHard, "HARD_REBOOT"},
		{VMActive, TaskRebootPendingHard, "HARD_REBOOT"},
		{VMActive, TaskRebootStartedHard, "HARD_REBOOT"},
		{VMActive, TaskUpdatingPassword, "PASSWORD"},
		{VMActive, TaskRebuilding, "REBUILD"},
		{VMActive, TaskRebuildBlockDeviceMapping, "REBUILD"},
		{VMActive, TaskRebuildSpawning, "REBUILD"},
		{VMActive, TaskMigrating, "MIGRATING"},
		{VMActive, TaskResizePrep, "RESIZE"},
		{VMActive, TaskResizeMigrating, "RESIZE"},
		{VMActive, TaskResizeMigrated, "RESIZE"},
		{VMActive, TaskResizeFinish, "RESIZE"},
		// active tasks Nova does NOT override (transcript shows ACTIVE).
		{VMActive, TaskPoweringOff, "ACTIVE"},
		{VMActive, TaskPausing, "ACTIVE"},
		{VMActive, TaskSuspending, "ACTIVE"},
		{VMActive, TaskRescuing, "ACTIVE"},
		{VMActive, TaskImageSnapshotPending, "ACTIVE"},
		{VMActive, TaskImageUploading, "ACTIVE"},
		{VMActive, TaskShelving, "ACTIVE"},
		{VMActive, TaskDeleting, "ACTIVE"},
		{VMActive, TaskResizeReverting, "ACTIVE"},

		// stopped overrides: resize and rebuild show through SHUTOFF.
		{VMStopped, TaskResizePrep, "RESIZE"},
		{VMStopped, TaskResizeMigrating, "RESIZE"},
		{VMStopped, TaskResizeMigrated, "RESIZE"},
		{VMStopped, TaskResizeFinish, "RESIZE"},
		{VMStopped, TaskRebuilding, "REBUILD"},
		{VMStopped, TaskRebuildBlockDeviceMapping, "REBUILD"},
		{VMStopped, TaskRebuildSpawning, "REBUILD"},
		{VMStopped, TaskPoweringOn, "SHUTOFF"},
		{VMStopped, TaskRebootingHard, "SHUTOFF"},
		{VMStopped, TaskMigrating, "SHUTOFF"},
		{VMStopped, TaskUpdatingPassword, "SHUTOFF"},

		// resized.
		{VMResized, TaskResizeReverting, "REVERT_RESIZE"},
		{VMResized, TaskResizeConfirming, "VERIFY_RESIZE"},
		{VMResized, TaskResizePrep, "VERIFY_RESIZE"},

		// paused.
		{VMPaused, TaskMigrating, "MIGRATING"},
		{VMPaused, TaskUnpausing, "PAUSED"},
		{VMPaused, TaskRebootingHard, "PAUSED"},

		{VMSuspended, TaskResuming, "SUSPENDED"},
		{VMRescued, TaskUnrescuing, "RESCUE"},

		// error: only rebuild shows through.
		{VMError, TaskRebuilding, "REBUILD"},
		{VMError, TaskRebuildBlockDeviceMapping, "REBUILD"},
		{VMError, TaskRebuildSpawning, "REBUILD"},
		{VMError, TaskPoweringOff, "ERROR"},
		{VMError, TaskResizePrep, "ERROR"},
		{VMError, TaskMigrating, "ERROR"},

		// shelve path from the transcript.
		{VMShelved, TaskShelvingOffloading, "SHELVED"},
		{VMShelvedOffloaded, TaskUnshelving, "SHELVED_OFFLOADED"},
		{VMShelvedOffloaded, TaskSpawning, "SHELVED_OFFLOADED"},

		{VMDeleted, TaskDeleting, "DELETED"},
		{VMSoftDeleted, TaskRestoring, "SOFT_DELETED"},

		// Unknown vm_states.
		{"", TaskNone, "UNKNOWN"},
		{"Active", TaskNone, "UNKNOWN"},
		{"soft_deleted", TaskNone, "UNKNOWN"},
		{"bogus", TaskRebooting, "UNKNOWN"},
	}
	for _, tt := range tests {
		if got := Status(tt.vm, tt.task); got != tt.want {
			t.Errorf("Status(%q, %q) = %q, want %q", tt.vm, tt.task, got, tt.want)
		}
	}
}

func TestAllStatusesReachable(t *testing.T) {
	// Spelled out independently of AllStatuses so a dropped or misspelt
	// entry there is caught.
	want := []string{
		"BUILD", "ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "RESCUE",
		"RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE", "REBOOT", "HARD_REBOOT",
		"REBUILD", "PASSWORD", "MIGRATING", "SHELVED", "SHELVED_OFFLOADED",
		"ERROR", "DELETED", "SOFT_DELETED", "UNKNOWN",
	}
	if !sameSet(AllStatuses, want) {
		t.Fatalf("AllStatuses = %v, want the set %v", AllStatuses, want)
	}

	reached := map[string]bool{}
	vmStates := append(slices.Clone(AllVMStates), "not-a-vm-state")
	taskStates := append([]TaskState{TaskNone}, AllTaskStates...)
	for _, vm := range vmStates {
		for _, task := range taskStates {
			s := Status(vm, task)
			if !slices.Contains(AllStatuses, s) {
				t.Errorf("Status(%q, %q) = %q, which is not in AllStatuses", vm, task, s)
			}
			reached[s] = true
		}
	}
	for _, s := range AllStatuses {
		if !reached[s] {
			t.Errorf("status %q is in AllStatuses but no (vm_state, task_state) reaches it", s)
		}
	}
}

func sameSet[T comparable](got, want []T) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[T]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] != 1 {
			return false
		}
	}
	return true
}
