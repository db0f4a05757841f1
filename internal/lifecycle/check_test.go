package lifecycle

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const sid = "c0ebacfb-4070-42f9-bbb2-8a08cdfee89e"

// gridCols is the column order of checkGrid. It is deliberately written out
// here instead of using AllVMStates, and TestCheckGridCoversAllVMStates makes
// sure it stays complete.
var gridCols = []VMState{
	VMActive, VMBuilding, VMPaused, VMSuspended, VMStopped, VMRescued,
	VMResized, VMSoftDeleted, VMDeleted, VMError, VMShelved, VMShelvedOffloaded,
}

// checkGrid is the expected result of Check for every action from every
// vm_state with no task running, unlocked: Y = allowed, . = refused with
// "Cannot '<novaName>' instance X while it is in vm_state <vm>". Transcribed
// by hand from the @check_instance_state decorators in Nova Zed's
// nova/compute/api.py, NOT computed from Guards, so a wrong row is caught.
var checkGrid = []struct {
	action   Action
	novaName string
	//        act bld pau sus sto res rsz sdl del err shl sho
	row string
}{
	{ActionStop, "stop", "Y . . . . . . . . Y . ."},
	{ActionStart, "start", ". . . . Y . . . . . . ."},
	{ActionPause, "pause", "Y . . . . . . . . . . ."},
	{ActionUnpause, "unpause", ". . Y . . . . . . . . ."},
	{ActionSuspend, "suspend", "Y . . . . . . . . . . ."},
	{ActionResume, "resume", ". . . Y . . . . . . . ."},
	{ActionRebootSoft, "reboot", "Y . . . . . . . . . . ."},
	{ActionRebootHard, "reboot", "Y . Y Y Y . . . . Y . ."},
	{ActionRebuild, "rebuild", "Y . . . Y . . . . Y . ."},
	{ActionResize, "resize", "Y . . . Y . . . . . . ."},
	{ActionConfirmResize, "confirmResize", ". . . . . . Y . . . . ."},
	{ActionRevertResize, "revertResize", ". . . . . . Y . . . . ."},
	{ActionRescue, "rescue", "Y . . . Y . . . . Y . ."},
	{ActionUnrescue, "unrescue", ". . . . . Y . . . . . ."},
	{ActionCreateImage, "createImage", "Y . Y Y Y . . . . . . ."},
	{ActionChangePassword, "changePassword", "Y . . . . . . . . . . ."},
	{ActionShelve, "shelve", "Y . Y Y Y . . . . . . ."},
	{ActionShelveOffload, "shelveOffload", ". . . . . . . . . . Y ."},
	{ActionUnshelve, "unshelve", ". . . . . . . . . . Y Y"},
	{ActionLock, "lock", "Y Y Y Y Y Y Y Y Y Y Y Y"},
	{ActionUnlock, "unlock", "Y Y Y Y Y Y Y Y Y Y Y Y"},
	{ActionDelete, "delete", "Y Y Y Y Y Y Y Y Y Y Y Y"},
	{ActionAttachInterface, "attach_interface", "Y . Y . Y . . . . . . ."},
	{ActionDetachInterface, "detach_interface", "Y . Y . Y . . . . . . ."},
	{ActionAttachVolume, "attach_volume", "Y . Y . Y . Y Y . . Y Y"},
	{ActionDetachVolume, "detach_volume", "Y . Y . Y . Y Y . . Y Y"},
	{ActionSwapVolume, "swap_volume", "Y . Y . . . Y . . . . ."},
}

func TestCheckGridCoversAllVMStates(t *testing.T) {
	if !sameSet(gridCols, AllVMStates) {
		t.Fatalf("grid columns %v != AllVMStates %v", gridCols, AllVMStates)
	}
	var actions []Action
	for _, r := range checkGrid {
		actions = append(actions, r.action)
	}
	if !sameSet(actions, AllActions) {
		t.Fatalf("grid actions %v != AllActions %v", actions, AllActions)
	}
}

func TestCheckEveryActionFromEveryVMState(t *testing.T) {
	for _, r := range checkGrid {
		cells := strings.Fields(r.row)
		if len(cells) != len(gridCols) {
			t.Fatalf("%s: row has %d cells, want %d", r.action, len(cells), len(gridCols))
		}
		for i, vm := range gridCols {
			s := State{VM: vm, Task: TaskNone, Power: PowerRunning}
			err := Check(r.action, s, false, false, sid)
			switch cells[i] {
			case "Y":
				if err != nil {
					t.Errorf("Check(%s) from %s: got %q, want allowed", r.action, vm, err)
				}
			case ".":
				want := "Cannot '" + r.novaName + "' instance " + sid + " while it is in vm_state " + string(vm)
				assertConflict(t, r.action, err, want)
			default:
				t.Fatalf("bad cell %q", cells[i])
			}
		}
	}
}

func TestCheckTaskState(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		s      State
		want   string // "" = allowed
	}{
		{"pause while powering off", ActionPause, State{VMActive, TaskPoweringOff, PowerRunning},
			"Cannot 'pause' instance " + sid + " while it is in task_state powering-off"},
		{"stop while pausing", ActionStop, State{VMActive, TaskPausing, PowerRunning},
			"Cannot 'stop' instance " + sid + " while it is in task_state pausing"},
		{"soft reboot while rebooting", ActionRebootSoft, State{VMActive, TaskRebooting, PowerRunning},
			"Cannot 'reboot' instance " + sid + " while it is in task_state rebooting"},
		{"createImage while uploading", ActionCreateImage, State{VMActive, TaskImageUploading, PowerRunning},
			"Cannot 'createImage' instance " + sid + " while it is in task_state image_uploading"},
		{"resize while resizing", ActionResize, State{VMActive, TaskResizePrep, PowerRunning},
			"Cannot 'resize' instance " + sid + " while it is in task_state resize_prep"},
		{"confirm while reverting", ActionConfirmResize, State{VMResized, TaskResizeReverting, PowerRunning},
			"Cannot 'confirmResize' instance " + sid + " while it is in task_state resize_reverting"},
		{"shelveOffload while offloading", ActionShelveOffload, State{VMShelved, TaskShelvingOffloading, PowerShutdown},
			"Cannot 'shelveOffload' instance " + sid + " while it is in task_state shelving_offloading"},
		{"unshelve while unshelving", ActionUnshelve, State{VMShelvedOffloaded, TaskUnshelving, PowerShutdown},
			"Cannot 'unshelve' instance " + sid + " while it is in task_state unshelving"},
		{"changePassword while deleting", ActionChangePassword, State{VMActive, TaskDeleting, PowerRunning},
			"Cannot 'changePassword' instance " + sid + " while it is in task_state deleting"},

		// vm_state is checked before task_state.
		{"pause on paused+unpausing", ActionPause, State{VMPaused, TaskUnpausing, PowerPaused},
			"Cannot 'pause' instance " + sid + " while it is in vm_state paused"},
		{"start on active+powering-off", ActionStart, State{VMActive, TaskPoweringOff, PowerRunning},
			"Cannot 'start' instance " + sid + " while it is in vm_state active"},

		// Hard reboot accepts task_states.ALLOW_REBOOT.
		{"hard reboot over soft reboot", ActionRebootHard, State{VMActive, TaskRebooting, PowerRunning}, ""},
		{"hard reboot over reboot_pending", ActionRebootHard, State{VMActive, TaskRebootPending, PowerRunning}, ""},
		{"hard reboot over reboot_started", ActionRebootHard, State{VMActive, TaskRebootStarted, PowerRunning}, ""},
		{"hard reboot over rebooting_hard", ActionRebootHard, State{VMActive, TaskRebootingHard, PowerRunning}, ""},
		{"hard reboot over pausing", ActionRebootHard, State{VMActive, TaskPausing, PowerRunning}, ""},
		{"hard reboot over unpausing", ActionRebootHard, State{VMPaused, TaskUnpausing, PowerPaused}, ""},
		{"hard reboot over suspending", ActionRebootHard, State{VMActive, TaskSuspending, PowerRunning}, ""},
		{"hard reboot over resuming", ActionRebootHard, State{VMSuspended, TaskResuming, PowerSuspended}, ""},
		{"hard reboot over reboot_pending_hard", ActionRebootHard, State{VMActive, TaskRebootPendingHard, PowerRunning},
			"Cannot 'reboot' instance " + sid + " while it is in task_state reboot_pending_hard"},
		{"hard reboot over reboot_started_hard", ActionRebootHard, State{VMActive, TaskRebootStartedHard, PowerRunning},
			"Cannot 'reboot' instance " + sid + " while it is in task_state reboot_started_hard"},
		{"hard reboot over powering-on", ActionRebootHard, State{VMStopped, TaskPoweringOn, PowerShutdown},
			"Cannot 'reboot' instance " + sid + " while it is in task_state powering-on"},
		{"soft reboot over pausing", ActionRebootSoft, State{VMActive, TaskPausing, PowerRunning},
			"Cannot 'reboot' instance " + sid + " while it is in task_state pausing"},

		// Delete and lock ignore task_state entirely.
		{"delete mid-stop", ActionDelete, State{VMActive, TaskPoweringOff, PowerRunning}, ""},
		{"delete mid-build", ActionDelete, State{VMBuilding, TaskScheduling, PowerNoState}, ""},
		{"delete while deleting", ActionDelete, State{VMActive, TaskDeleting, PowerRunning}, ""},
		{"lock mid-resize", ActionLock, State{VMActive, TaskResizeMigrating, PowerRunning}, ""},
		{"unlock mid-build", ActionUnlock, State{VMBuilding, TaskSpawning, PowerNoState}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.action, tt.s, false, false, sid)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %q, want allowed", err)
				}
				return
			}
			assertConflict(t, tt.action, err, tt.want)
		})
	}
}

// Every action whose Nova decorator keeps the default task_state=[None] must
// refuse while a task runs; the ones with task_state=None (delete) or no
// decorator (lock, unlock) must not.
func TestCheckBusyServer(t *testing.T) {
	tests := []struct {
		action   Action
		novaName string
		from     VMState // a vm_state the action is allowed from
		refused  bool
	}{
		{ActionStop, "stop", VMActive, true},
		{ActionStart, "start", VMStopped, true},
		{ActionPause, "pause", VMActive, true},
		{ActionUnpause, "unpause", VMPaused, true},
		{ActionSuspend, "suspend", VMActive, true},
		{ActionResume, "resume", VMSuspended, true},
		{ActionRebootSoft, "reboot", VMActive, true},
		{ActionRebootHard, "reboot", VMActive, true}, // migrating is not in ALLOW_REBOOT
		{ActionRebuild, "rebuild", VMActive, true},
		{ActionResize, "resize", VMActive, true},
		{ActionConfirmResize, "confirmResize", VMResized, true},
		{ActionRevertResize, "revertResize", VMResized, true},
		{ActionRescue, "rescue", VMActive, true},
		{ActionUnrescue, "unrescue", VMRescued, true},
		{ActionCreateImage, "createImage", VMActive, true},
		{ActionChangePassword, "changePassword", VMActive, true},
		{ActionShelve, "shelve", VMActive, true},
		{ActionShelveOffload, "shelveOffload", VMShelved, true},
		{ActionUnshelve, "unshelve", VMShelvedOffloaded, true},
		{ActionLock, "lock", VMActive, false},
		{ActionUnlock, "unlock", VMActive, false},
		{ActionDelete, "delete", VMActive, false},
		{ActionAttachInterface, "attach_interface", VMActive, true},
		{ActionDetachInterface, "detach_interface", VMStopped, true},
		{ActionAttachVolume, "attach_volume", VMShelved, true},
		{ActionDetachVolume, "detach_volume", VMPaused, true},
		{ActionSwapVolume, "swap_volume", VMResized, true},
	}
	if len(tests) != len(AllActions) {
		t.Fatalf("table covers %d actions, AllActions has %d", len(tests), len(AllActions))
	}
	for _, tt := range tests {
		idleState := State{VM: tt.from, Power: PowerRunning}
		if err := Check(tt.action, idleState, false, false, sid); err != nil {
			t.Errorf("%s from idle %s: %q, want allowed", tt.action, tt.from, err)
		}
		busy := State{VM: tt.from, Task: TaskMigrating, Power: PowerRunning}
		err := Check(tt.action, busy, false, false, sid)
		if !tt.refused {
			if err != nil {
				t.Errorf("%s while migrating: %q, want allowed", tt.action, err)
			}
			continue
		}
		assertConflict(t, tt.action, err,
			"Cannot '"+tt.novaName+"' instance "+sid+" while it is in task_state migrating")
	}
}

func TestCheckLock(t *testing.T) {
	tests := []struct {
		action      Action
		from        VMState // a vm_state the action is allowed from
		lockRefuses bool
	}{
		{ActionStop, VMActive, true},
		{ActionStart, VMStopped, true},
		{ActionPause, VMActive, true},
		{ActionUnpause, VMPaused, true},
		{ActionSuspend, VMActive, true},
		{ActionResume, VMSuspended, true},
		{ActionRebootSoft, VMActive, true},
		{ActionRebootHard, VMActive, true},
		{ActionRebuild, VMActive, true},
		{ActionResize, VMActive, true},
		{ActionConfirmResize, VMResized, true},
		{ActionRevertResize, VMResized, true},
		{ActionRescue, VMActive, true},
		{ActionUnrescue, VMRescued, true},
		{ActionCreateImage, VMActive, false}, // API.snapshot has no @check_instance_lock
		{ActionChangePassword, VMActive, true},
		{ActionShelve, VMActive, true},
		{ActionShelveOffload, VMShelved, true},
		{ActionUnshelve, VMShelvedOffloaded, true},
		{ActionLock, VMActive, false},
		{ActionUnlock, VMActive, false},
		{ActionDelete, VMActive, true},
		{ActionAttachInterface, VMActive, true},
		{ActionDetachInterface, VMPaused, true},
		{ActionAttachVolume, VMResized, true},
		{ActionDetachVolume, VMShelvedOffloaded, true},
		{ActionSwapVolume, VMPaused, true},
	}
	if len(tests) != len(AllActions) {
		t.Fatalf("table covers %d actions, AllActions has %d", len(tests), len(AllActions))
	}
	for _, tt := range tests {
		s := State{VM: tt.from, Power: PowerRunning}
		err := Check(tt.action, s, true, false, sid)
		if tt.lockRefuses {
			assertConflict(t, tt.action, err, "Instance "+sid+" is locked")
		} else if err != nil {
			t.Errorf("%s on locked server, non-admin: %q, want allowed", tt.action, err)
		}
		if err := Check(tt.action, s, true, true, sid); err != nil {
			t.Errorf("%s on locked server, admin: %q, want allowed", tt.action, err)
		}
		if g, _ := GuardFor(tt.action); g.LockRefuses != tt.lockRefuses {
			t.Errorf("GuardFor(%s).LockRefuses = %v, want %v", tt.action, g.LockRefuses, tt.lockRefuses)
		}
	}
}

func TestCheckOrdering(t *testing.T) {
	tests := []struct {
		name          string
		action        Action
		s             State
		locked, admin bool
		want          string
	}{
		// The transcript's three refusals, verbatim.
		{"pause paused (sample)", ActionPause, State{VMPaused, TaskNone, PowerRunning}, false, false,
			"Cannot 'pause' instance c0ebacfb-4070-42f9-bbb2-8a08cdfee89e while it is in vm_state paused"},
		{"stop stopped (sample)", ActionStop, State{VMStopped, TaskNone, PowerShutdown}, false, false,
			"Cannot 'stop' instance c0ebacfb-4070-42f9-bbb2-8a08cdfee89e while it is in vm_state stopped"},
		{"locked (sample)", ActionRebootSoft, State{VMActive, TaskNone, PowerRunning}, true, false,
			"Instance c0ebacfb-4070-42f9-bbb2-8a08cdfee89e is locked"},
		// Lock is checked before vm_state and task_state.
		{"locked beats vm_state", ActionPause, State{VMPaused, TaskNone, PowerRunning}, true, false,
			"Instance " + sid + " is locked"},
		{"locked beats task_state", ActionStop, State{VMActive, TaskPausing, PowerRunning}, true, false,
			"Instance " + sid + " is locked"},
		// Admin skips the lock but not the state checks.
		{"admin still gets vm_state", ActionPause, State{VMPaused, TaskNone, PowerRunning}, true, true,
			"Cannot 'pause' instance " + sid + " while it is in vm_state paused"},
		// createImage ignores the lock but not the state.
		{"createImage locked rescued", ActionCreateImage, State{VMRescued, TaskNone, PowerShutdown}, true, false,
			"Cannot 'createImage' instance " + sid + " while it is in vm_state rescued"},
		{"createImage locked ok", ActionCreateImage, State{VMPaused, TaskNone, PowerPaused}, true, false, ""},
		// lock/unlock ignore the lock.
		{"unlock locked", ActionUnlock, State{VMActive, TaskNone, PowerRunning}, true, false, ""},
		{"lock locked", ActionLock, State{VMError, TaskNone, PowerShutdown}, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.action, tt.s, tt.locked, tt.admin, sid)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %q, want allowed", err)
				}
				return
			}
			assertConflict(t, tt.action, err, tt.want)
		})
	}
}

func TestCheckLaunched(t *testing.T) {
	errored := State{VM: VMError, Task: TaskNone, Power: PowerNoState}
	tests := []struct {
		action Action
		want   string
	}{
		{ActionStop, "Instance " + sid + " is in an invalid state for 'stop'"},
		{ActionRebuild, "Instance " + sid + " is in an invalid state for 'rebuild'"},
		{ActionRescue, "Instance " + sid + " is in an invalid state for 'rescue'"},
		{ActionRebootHard, "Instance " + sid + " is in an invalid state for 'reboot'"},
		{ActionDelete, ""}, // must_have_launched=False
		{ActionLock, ""},
		{ActionUnlock, ""},
		// vm_state is still checked first.
		{ActionStart, "Cannot 'start' instance " + sid + " while it is in vm_state error"},
	}
	for _, tt := range tests {
		err := CheckLaunched(tt.action, errored, false, false, false, sid)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s never launched: %q, want allowed", tt.action, err)
			}
			continue
		}
		assertConflict(t, tt.action, err, tt.want)
		// Check assumes launched.
		if tt.action != ActionStart {
			if err := Check(tt.action, errored, false, false, sid); err != nil {
				t.Errorf("Check(%s) on launched errored server: %q", tt.action, err)
			}
		}
	}
}

func TestCheckUnknownAction(t *testing.T) {
	err := Check("migrate", State{VM: VMActive}, false, false, sid)
	if err == nil {
		t.Fatal("unknown action allowed")
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		t.Fatalf("unknown action reported as a Nova conflict: %q", err)
	}
}

func TestGuardTableShape(t *testing.T) {
	if len(Guards) != len(AllActions) {
		t.Fatalf("len(Guards) = %d, len(AllActions) = %d", len(Guards), len(AllActions))
	}
	for i, a := range AllActions {
		if Guards[i].Action != a {
			t.Errorf("Guards[%d].Action = %s, want %s (AllActions order)", i, Guards[i].Action, a)
		}
		g, ok := GuardFor(a)
		if !ok || g.Action != a {
			t.Errorf("GuardFor(%s) = %v, %v", a, g.Action, ok)
		}
		for _, v := range g.AllowedVM {
			if !v.Valid() {
				t.Errorf("%s: AllowedVM has unknown vm_state %q", a, v)
			}
		}
		for _, ts := range append(slices.Clone(g.AllowedTask), g.Steps...) {
			if !ts.Valid() {
				t.Errorf("%s: unknown task_state %q", a, ts)
			}
		}
		if slices.Contains(g.Steps, TaskNone) {
			t.Errorf("%s: Steps contains TaskNone", a)
		}
	}
	if _, ok := GuardFor("nope"); ok {
		t.Error("GuardFor(nope) found a row")
	}
}

func assertConflict(t *testing.T, a Action, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: allowed, want refusal %q", a, want)
		return
	}
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Errorf("%s: error %T %q is not a *ConflictError", a, err, err)
		return
	}
	if ce.Message != want || err.Error() != want {
		t.Errorf("%s: message\n got  %q\n want %q", a, ce.Message, want)
	}
	if ce.Action != a {
		t.Errorf("%s: ConflictError.Action = %s", a, ce.Action)
	}
}
