package lifecycle

import (
	"slices"
	"testing"
)

var (
	activeIdle    = State{VMActive, TaskNone, PowerRunning}
	stoppedIdle   = State{VMStopped, TaskNone, PowerShutdown}
	pausedIdle    = State{VMPaused, TaskNone, PowerPaused}
	suspendedIdle = State{VMSuspended, TaskNone, PowerSuspended}
	rescuedIdle   = State{VMRescued, TaskNone, PowerShutdown}
	errorIdle     = State{VMError, TaskNone, PowerShutdown}
	shelvedIdle   = State{VMShelved, TaskNone, PowerShutdown}
	offloadedIdle = State{VMShelvedOffloaded, TaskNone, PowerShutdown}
)

func TestBeginFinish(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		from   State
		prev   VMState
		begin  State
		finish State
	}{
		// Sequences observed in transcript.txt.
		{"stop", ActionStop, activeIdle, "",
			State{VMActive, TaskPoweringOff, PowerRunning}, State{VMStopped, TaskNone, PowerShutdown}},
		{"stop from error", ActionStop, errorIdle, "",
			State{VMError, TaskPoweringOff, PowerShutdown}, State{VMStopped, TaskNone, PowerShutdown}},
		{"start", ActionStart, stoppedIdle, "",
			State{VMStopped, TaskPoweringOn, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"pause", ActionPause, activeIdle, "",
			State{VMActive, TaskPausing, PowerRunning}, State{VMPaused, TaskNone, PowerPaused}},
		{"unpause", ActionUnpause, pausedIdle, "",
			State{VMPaused, TaskUnpausing, PowerPaused}, State{VMActive, TaskNone, PowerRunning}},
		{"suspend", ActionSuspend, activeIdle, "",
			State{VMActive, TaskSuspending, PowerRunning}, State{VMSuspended, TaskNone, PowerSuspended}},
		{"resume", ActionResume, suspendedIdle, "",
			State{VMSuspended, TaskResuming, PowerSuspended}, State{VMActive, TaskNone, PowerRunning}},
		{"soft reboot", ActionRebootSoft, activeIdle, "",
			State{VMActive, TaskRebooting, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"hard reboot", ActionRebootHard, activeIdle, "",
			State{VMActive, TaskRebootingHard, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"hard reboot from stopped", ActionRebootHard, stoppedIdle, "",
			State{VMStopped, TaskRebootingHard, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"hard reboot from paused", ActionRebootHard, pausedIdle, "",
			State{VMPaused, TaskRebootingHard, PowerPaused}, State{VMActive, TaskNone, PowerRunning}},
		{"hard reboot from error", ActionRebootHard, errorIdle, "",
			State{VMError, TaskRebootingHard, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"rebuild", ActionRebuild, activeIdle, "",
			State{VMActive, TaskRebuilding, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"rebuild stopped stays stopped", ActionRebuild, stoppedIdle, "",
			State{VMStopped, TaskRebuilding, PowerShutdown}, State{VMStopped, TaskNone, PowerShutdown}},
		{"rebuild from error", ActionRebuild, errorIdle, "",
			State{VMError, TaskRebuilding, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"resize", ActionResize, activeIdle, VMActive,
			State{VMActive, TaskResizePrep, PowerRunning}, State{VMResized, TaskNone, PowerRunning}},
		{"resize without prev", ActionResize, activeIdle, "",
			State{VMActive, TaskResizePrep, PowerRunning}, State{VMResized, TaskNone, PowerRunning}},
		{"resize stopped", ActionResize, stoppedIdle, VMStopped,
			State{VMStopped, TaskResizePrep, PowerShutdown}, State{VMResized, TaskNone, PowerShutdown}},
		{"resize stopped without prev", ActionResize, stoppedIdle, "",
			State{VMStopped, TaskResizePrep, PowerShutdown}, State{VMResized, TaskNone, PowerShutdown}},
		{"confirm (no task shown)", ActionConfirmResize, State{VMResized, TaskNone, PowerRunning}, VMActive,
			State{VMResized, TaskNone, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"confirm of stopped", ActionConfirmResize, State{VMResized, TaskNone, PowerShutdown}, VMStopped,
			State{VMResized, TaskNone, PowerShutdown}, State{VMStopped, TaskNone, PowerShutdown}},
		{"confirm without prev, powered off", ActionConfirmResize, State{VMResized, TaskNone, PowerShutdown}, "",
			State{VMResized, TaskNone, PowerShutdown}, State{VMStopped, TaskNone, PowerShutdown}},
		{"confirm without prev, running", ActionConfirmResize, State{VMResized, TaskNone, PowerRunning}, "",
			State{VMResized, TaskNone, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"revert", ActionRevertResize, State{VMResized, TaskNone, PowerRunning}, VMActive,
			State{VMResized, TaskResizeReverting, PowerRunning}, State{VMActive, TaskNone, PowerRunning}},
		{"revert of stopped", ActionRevertResize, State{VMResized, TaskNone, PowerShutdown}, VMStopped,
			State{VMResized, TaskResizeReverting, PowerShutdown}, State{VMStopped, TaskNone, PowerShutdown}},
		{"revert without prev defaults to active", ActionRevertResize, State{VMResized, TaskNone, PowerShutdown}, "",
			State{VMResized, TaskResizeReverting, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"rescue", ActionRescue, activeIdle, "",
			State{VMActive, TaskRescuing, PowerRunning}, State{VMRescued, TaskNone, PowerShutdown}},
		{"rescue stopped", ActionRescue, stoppedIdle, "",
			State{VMStopped, TaskRescuing, PowerShutdown}, State{VMRescued, TaskNone, PowerShutdown}},
		{"unrescue", ActionUnrescue, rescuedIdle, "",
			State{VMRescued, TaskUnrescuing, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"createImage", ActionCreateImage, activeIdle, "",
			State{VMActive, TaskImageSnapshotPending, PowerRunning}, activeIdle},
		{"createImage of paused", ActionCreateImage, pausedIdle, "",
			State{VMPaused, TaskImageSnapshotPending, PowerPaused}, pausedIdle},
		{"changePassword", ActionChangePassword, activeIdle, "",
			State{VMActive, TaskUpdatingPassword, PowerRunning}, activeIdle},
		{"shelve", ActionShelve, activeIdle, "",
			State{VMActive, TaskShelving, PowerRunning}, State{VMShelved, TaskNone, PowerShutdown}},
		{"shelve offload", ActionShelveOffload, shelvedIdle, "",
			State{VMShelved, TaskShelvingOffloading, PowerShutdown}, State{VMShelvedOffloaded, TaskNone, PowerShutdown}},
		{"unshelve", ActionUnshelve, offloadedIdle, "",
			State{VMShelvedOffloaded, TaskUnshelving, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"unshelve shelved", ActionUnshelve, shelvedIdle, "",
			State{VMShelved, TaskUnshelving, PowerShutdown}, State{VMActive, TaskNone, PowerRunning}},
		{"lock", ActionLock, activeIdle, "", activeIdle, activeIdle},
		{"unlock mid-task keeps the task", ActionUnlock, State{VMActive, TaskPausing, PowerRunning}, "",
			State{VMActive, TaskPausing, PowerRunning}, State{VMActive, TaskPausing, PowerRunning}},
		{"delete", ActionDelete, activeIdle, "",
			State{VMActive, TaskDeleting, PowerRunning}, State{VMDeleted, TaskNone, PowerNoState}},
		{"delete mid-task", ActionDelete, State{VMStopped, TaskPoweringOn, PowerShutdown}, "",
			State{VMStopped, TaskDeleting, PowerShutdown}, State{VMDeleted, TaskNone, PowerNoState}},
		{"delete while building", ActionDelete, Building(), "",
			State{VMBuilding, TaskDeleting, PowerNoState}, State{VMDeleted, TaskNone, PowerNoState}},
		// Devices change no state: Nova sets no task_state and leaves vm_state as it was.
		{"attach interface", ActionAttachInterface, activeIdle, "", activeIdle, activeIdle},
		{"detach interface", ActionDetachInterface, pausedIdle, "", pausedIdle, pausedIdle},
		{"attach volume", ActionAttachVolume, shelvedIdle, "", shelvedIdle, shelvedIdle},
		{"detach volume", ActionDetachVolume, activeIdle, "", activeIdle, activeIdle},
		{"swap volume", ActionSwapVolume, pausedIdle, "", pausedIdle, pausedIdle},
	}

	covered := map[Action]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.action] = true
			begin := Begin(tt.action, tt.from)
			if begin != tt.begin {
				t.Errorf("Begin = %+v, want %+v", begin, tt.begin)
			}
			if got := Finish(tt.action, tt.from, tt.prev); got != tt.finish {
				t.Errorf("Finish(from original) = %+v, want %+v", got, tt.finish)
			}
			if got := Finish(tt.action, begin, tt.prev); got != tt.finish {
				t.Errorf("Finish(from Begin) = %+v, want %+v", got, tt.finish)
			}
		})
	}
	for _, a := range AllActions {
		if !covered[a] {
			t.Errorf("no Begin/Finish case for %s", a)
		}
	}
}

func TestBeginFinishUnknownAction(t *testing.T) {
	s := State{VMActive, TaskPausing, PowerRunning}
	if got := Begin("nope", s); got != s {
		t.Errorf("Begin(unknown) = %+v", got)
	}
	if got := Finish("nope", s, ""); got != s {
		t.Errorf("Finish(unknown) = %+v", got)
	}
}

func TestSteps(t *testing.T) {
	tests := []struct {
		action Action
		want   []TaskState
	}{
		{ActionStop, []TaskState{"powering-off"}},
		{ActionStart, []TaskState{"powering-on"}},
		{ActionPause, []TaskState{"pausing"}},
		{ActionUnpause, []TaskState{"unpausing"}},
		{ActionSuspend, []TaskState{"suspending"}},
		{ActionResume, []TaskState{"resuming"}},
		{ActionRebootSoft, []TaskState{"rebooting", "reboot_pending", "reboot_started"}},
		{ActionRebootHard, []TaskState{"rebooting_hard", "reboot_pending_hard", "reboot_started_hard"}},
		{ActionRebuild, []TaskState{"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"}},
		{ActionResize, []TaskState{"resize_prep", "resize_migrating", "resize_migrated", "resize_finish"}},
		{ActionConfirmResize, nil},
		{ActionRevertResize, []TaskState{"resize_reverting"}},
		{ActionRescue, []TaskState{"rescuing"}},
		{ActionUnrescue, []TaskState{"unrescuing"}},
		{ActionCreateImage, []TaskState{"image_snapshot_pending", "image_snapshot", "image_pending_upload", "image_uploading"}},
		{ActionChangePassword, []TaskState{"updating_password"}},
		{ActionShelve, []TaskState{"shelving", "shelving_image_pending_upload", "shelving_image_uploading"}},
		{ActionShelveOffload, []TaskState{"shelving_offloading"}},
		{ActionUnshelve, []TaskState{"unshelving", "spawning"}},
		{ActionLock, nil},
		{ActionUnlock, nil},
		{ActionDelete, []TaskState{"deleting"}},
		{ActionAttachInterface, nil},
		{ActionDetachInterface, nil},
		{ActionAttachVolume, nil},
		{ActionDetachVolume, nil},
		{ActionSwapVolume, nil},
	}
	if len(tests) != len(AllActions) {
		t.Fatalf("table covers %d actions, AllActions has %d", len(tests), len(AllActions))
	}
	for _, tt := range tests {
		g, ok := GuardFor(tt.action)
		if !ok {
			t.Fatalf("no guard for %s", tt.action)
		}
		if !slices.Equal(g.Steps, tt.want) {
			t.Errorf("%s: Steps = %q, want %q", tt.action, g.Steps, tt.want)
		}
	}
}

func TestStepsFrom(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		from   State
		prev   VMState
		want   []TaskState
	}{
		{"unshelve offloaded", ActionUnshelve, offloadedIdle, "", []TaskState{"unshelving", "spawning"}},
		{"unshelve shelved", ActionUnshelve, shelvedIdle, "", []TaskState{"unshelving", "powering-on"}},
		{"rebuild active", ActionRebuild, activeIdle, "",
			[]TaskState{"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"}},
		{"rebuild stopped", ActionRebuild, stoppedIdle, "",
			[]TaskState{"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning", "powering-off"}},
		{"revert active", ActionRevertResize, State{VMResized, TaskNone, PowerRunning}, VMActive,
			[]TaskState{"resize_reverting"}},
		{"revert stopped", ActionRevertResize, State{VMResized, TaskNone, PowerShutdown}, VMStopped,
			[]TaskState{"resize_reverting", "powering-off"}},
		{"stop", ActionStop, activeIdle, "", []TaskState{"powering-off"}},
		{"unknown", "nope", activeIdle, "", nil},
	}
	for _, tt := range tests {
		if got := StepsFrom(tt.action, tt.from, tt.prev); !slices.Equal(got, tt.want) {
			t.Errorf("%s: StepsFrom = %q, want %q", tt.name, got, tt.want)
		}
	}
	// StepsFrom must not alias the table.
	g, _ := GuardFor(ActionRebuild)
	before := slices.Clone(g.Steps)
	_ = StepsFrom(ActionRebuild, stoppedIdle, "")
	_ = StepsFrom(ActionRebuild, stoppedIdle, "")
	if g2, _ := GuardFor(ActionRebuild); !slices.Equal(g2.Steps, before) {
		t.Errorf("StepsFrom mutated the guard table: %q", g2.Steps)
	}
}

// Walking every step of every action must show the statuses Nova shows (the
// transcript's status column) and never UNKNOWN.
func TestStatusAlongSteps(t *testing.T) {
	tests := []struct {
		action Action
		from   State
		prev   VMState
		want   []string // status at from, at each step, and at Finish
	}{
		{ActionStop, activeIdle, "", []string{"ACTIVE", "ACTIVE", "SHUTOFF"}},
		{ActionStart, stoppedIdle, "", []string{"SHUTOFF", "SHUTOFF", "ACTIVE"}},
		{ActionPause, activeIdle, "", []string{"ACTIVE", "ACTIVE", "PAUSED"}},
		{ActionUnpause, pausedIdle, "", []string{"PAUSED", "PAUSED", "ACTIVE"}},
		{ActionSuspend, activeIdle, "", []string{"ACTIVE", "ACTIVE", "SUSPENDED"}},
		{ActionResume, suspendedIdle, "", []string{"SUSPENDED", "SUSPENDED", "ACTIVE"}},
		{ActionRebootSoft, activeIdle, "", []string{"ACTIVE", "REBOOT", "REBOOT", "REBOOT", "ACTIVE"}},
		{ActionRebootHard, activeIdle, "", []string{"ACTIVE", "HARD_REBOOT", "HARD_REBOOT", "HARD_REBOOT", "ACTIVE"}},
		{ActionRescue, activeIdle, "", []string{"ACTIVE", "ACTIVE", "RESCUE"}},
		{ActionUnrescue, rescuedIdle, "", []string{"RESCUE", "RESCUE", "ACTIVE"}},
		{ActionResize, activeIdle, VMActive, []string{"ACTIVE", "RESIZE", "RESIZE", "RESIZE", "RESIZE", "VERIFY_RESIZE"}},
		{ActionResize, stoppedIdle, VMStopped, []string{"SHUTOFF", "RESIZE", "RESIZE", "RESIZE", "RESIZE", "VERIFY_RESIZE"}},
		{ActionConfirmResize, State{VMResized, TaskNone, PowerRunning}, VMActive, []string{"VERIFY_RESIZE", "ACTIVE"}},
		{ActionRevertResize, State{VMResized, TaskNone, PowerRunning}, VMActive, []string{"VERIFY_RESIZE", "REVERT_RESIZE", "ACTIVE"}},
		{ActionCreateImage, activeIdle, "", []string{"ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE"}},
		{ActionRebuild, activeIdle, "", []string{"ACTIVE", "REBUILD", "REBUILD", "REBUILD", "ACTIVE"}},
		{ActionRebuild, errorIdle, "", []string{"ERROR", "REBUILD", "REBUILD", "REBUILD", "ACTIVE"}},
		{ActionChangePassword, activeIdle, "", []string{"ACTIVE", "PASSWORD", "ACTIVE"}},
		{ActionShelve, activeIdle, "", []string{"ACTIVE", "ACTIVE", "ACTIVE", "ACTIVE", "SHELVED"}},
		{ActionShelveOffload, shelvedIdle, "", []string{"SHELVED", "SHELVED", "SHELVED_OFFLOADED"}},
		{ActionUnshelve, offloadedIdle, "", []string{"SHELVED_OFFLOADED", "SHELVED_OFFLOADED", "SHELVED_OFFLOADED", "ACTIVE"}},
		{ActionDelete, activeIdle, "", []string{"ACTIVE", "ACTIVE", "DELETED"}},
		{ActionLock, activeIdle, "", []string{"ACTIVE", "ACTIVE"}},
		{ActionUnlock, activeIdle, "", []string{"ACTIVE", "ACTIVE"}},
	}
	for _, tt := range tests {
		got := []string{Status(tt.from.VM, tt.from.Task)}
		g, _ := GuardFor(tt.action)
		s := tt.from
		for _, step := range g.Steps {
			s.Task = step
			got = append(got, Status(s.VM, s.Task))
		}
		f := Finish(tt.action, s, tt.prev)
		got = append(got, Status(f.VM, f.Task))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s from %s: statuses %q, want %q", tt.action, tt.from.VM, got, tt.want)
		}
	}
}

// TestAtStep: each step of a task shows the state Nova shows then. The rebuild of a stopped
// server powers the rebuilt guest off again as its last step, which Nova shows with
// vm_state active (status ACTIVE), and the rebuild still ends stopped from there.
func TestAtStep(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		from   State
		prev   VMState
		step   int
		want   State
	}{
		{"rebuild active, last step", ActionRebuild, activeIdle, VMActive, 2, State{VMActive, TaskRebuildSpawning, PowerRunning}},
		{"rebuild stopped, first step", ActionRebuild, stoppedIdle, VMStopped, 0, State{VMStopped, TaskRebuilding, PowerShutdown}},
		{"rebuild stopped, spawning", ActionRebuild, stoppedIdle, VMStopped, 2, State{VMStopped, TaskRebuildSpawning, PowerShutdown}},
		{"rebuild stopped, powering off", ActionRebuild, stoppedIdle, VMStopped, 3, State{VMActive, TaskPoweringOff, PowerRunning}},
		{"rebuild stopped, read again at its last step", ActionRebuild, State{VMActive, TaskPoweringOff, PowerRunning}, VMStopped, 3,
			State{VMActive, TaskPoweringOff, PowerRunning}},
		{"step past the end", ActionStop, activeIdle, VMActive, 5, State{VMActive, TaskPoweringOff, PowerRunning}},
		{"revert of stopped keeps its vm_state", ActionRevertResize, State{VMResized, TaskNone, PowerShutdown}, VMStopped, 1,
			State{VMResized, TaskPoweringOff, PowerShutdown}},
	}
	for _, tt := range tests {
		if got := AtStep(tt.action, tt.from, tt.prev, tt.step); got != tt.want {
			t.Errorf("%s: AtStep = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	last := AtStep(ActionRebuild, stoppedIdle, VMStopped, 3)
	if got := StepsFrom(ActionRebuild, last, VMStopped); len(got) != 4 {
		t.Errorf("steps read again at the last step: %q, want the four with powering-off", got)
	}
	if got := Finish(ActionRebuild, last, VMStopped); got != stoppedIdle {
		t.Errorf("rebuild of a stopped server finished from its last step: %+v, want %+v", got, stoppedIdle)
	}
	if got := Status(last.VM, last.Task); got != "ACTIVE" {
		t.Errorf("status at the rebuild's last step: %q, want Nova's ACTIVE", got)
	}
}
