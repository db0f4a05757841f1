package lifecycle

import (
	"slices"
	"testing"
)

func TestVMStates(t *testing.T) {
	// nova.objects.fields.InstanceState.ALL, verbatim.
	want := []string{"active", "building", "paused", "suspended", "stopped", "rescued",
		"resized", "soft-delete", "deleted", "error", "shelved", "shelved_offloaded"}
	var got []string
	for _, v := range AllVMStates {
		got = append(got, string(v))
		if !v.Valid() {
			t.Errorf("%q not Valid", v)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("AllVMStates = %q, want %q", got, want)
	}
	for _, bad := range []VMState{"", "soft_deleted", "ACTIVE", "shutoff"} {
		if bad.Valid() {
			t.Errorf("%q reported Valid", bad)
		}
	}
}

func TestTaskStates(t *testing.T) {
	// nova.objects.fields.InstanceTaskState.ALL, verbatim.
	want := []string{"scheduling", "block_device_mapping", "networking", "spawning",
		"image_snapshot", "image_snapshot_pending", "image_pending_upload",
		"image_uploading", "image_backup", "updating_password", "resize_prep",
		"resize_migrating", "resize_migrated", "resize_finish", "resize_reverting",
		"resize_confirming", "rebooting", "reboot_pending", "reboot_started",
		"rebooting_hard", "reboot_pending_hard", "reboot_started_hard", "pausing",
		"unpausing", "suspending", "resuming", "powering-off", "powering-on",
		"rescuing", "unrescuing", "rebuilding", "rebuild_block_device_mapping",
		"rebuild_spawning", "migrating", "deleting", "soft-deleting", "restoring",
		"shelving", "shelving_image_pending_upload", "shelving_image_uploading",
		"shelving_offloading", "unshelving"}
	var got []string
	for _, ts := range AllTaskStates {
		got = append(got, string(ts))
	}
	if !slices.Equal(got, want) {
		t.Errorf("AllTaskStates = %q,\nwant %q", got, want)
	}
	if !TaskNone.Valid() || TaskState("powering_off").Valid() {
		t.Error("TaskState.Valid wrong")
	}
	if TaskNone.NovaString() != "None" || TaskPoweringOff.NovaString() != "powering-off" {
		t.Error("NovaString wrong")
	}
}

func TestPowerStateString(t *testing.T) {
	tests := []struct {
		p    PowerState
		want string
	}{
		{PowerNoState, "NOSTATE"},
		{PowerRunning, "Running"},
		{2, ""},
		{PowerPaused, "Paused"},
		{PowerShutdown, "Shutdown"},
		{5, ""},
		{PowerCrashed, "Crashed"},
		{PowerSuspended, "Suspended"},
		{8, "N/A"},
		{-1, "N/A"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("PowerState(%d).String() = %q, want %q", int32(tt.p), got, tt.want)
		}
	}
	// The integers are Nova's wire values.
	if PowerNoState != 0 || PowerRunning != 1 || PowerPaused != 3 || PowerShutdown != 4 ||
		PowerCrashed != 6 || PowerSuspended != 7 {
		t.Error("power state values drifted from Nova's")
	}
}

func TestBuildLifecycle(t *testing.T) {
	want := []TaskState{"scheduling", "networking", "block_device_mapping", "spawning"}
	if !slices.Equal(BuildSteps, want) {
		t.Errorf("BuildSteps = %q, want %q", BuildSteps, want)
	}
	if got := Building(); got != (State{VMBuilding, TaskScheduling, PowerNoState}) {
		t.Errorf("Building() = %+v", got)
	}
	if got := Built(); got != (State{VMActive, TaskNone, PowerRunning}) {
		t.Errorf("Built() = %+v", got)
	}
	if got := Failed(PowerShutdown); got != (State{VMError, TaskNone, PowerShutdown}) {
		t.Errorf("Failed() = %+v", got)
	}
	// Every build step reads BUILD, the end reads ACTIVE, a failure ERROR.
	for _, step := range BuildSteps {
		if s := Status(VMBuilding, step); s != "BUILD" {
			t.Errorf("Status(building, %s) = %s", step, s)
		}
	}
	if s := Status(Built().VM, Built().Task); s != "ACTIVE" {
		t.Errorf("Built status = %s", s)
	}
	if s := Status(Failed(PowerNoState).VM, TaskNone); s != "ERROR" {
		t.Errorf("Failed status = %s", s)
	}
}
