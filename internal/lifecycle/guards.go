package lifecycle

// Action is a server action a client can ask for. The two reboot flavours are
// separate actions because Nova guards them differently (_soft_reboot and
// _hard_reboot), even though both are POST {"reboot": ...}.
type Action string

// The actions Kova implements.
const (
	ActionStop           Action = "stop"
	ActionStart          Action = "start"
	ActionPause          Action = "pause"
	ActionUnpause        Action = "unpause"
	ActionSuspend        Action = "suspend"
	ActionResume         Action = "resume"
	ActionRebootSoft     Action = "rebootSoft"
	ActionRebootHard     Action = "rebootHard"
	ActionRebuild        Action = "rebuild"
	ActionResize         Action = "resize"
	ActionConfirmResize  Action = "confirmResize"
	ActionRevertResize   Action = "revertResize"
	ActionRescue         Action = "rescue"
	ActionUnrescue       Action = "unrescue"
	ActionCreateImage    Action = "createImage"
	ActionChangePassword Action = "changePassword"
	ActionShelve         Action = "shelve"
	ActionShelveOffload  Action = "shelveOffload"
	ActionUnshelve       Action = "unshelve"
	ActionLock           Action = "lock"
	ActionUnlock         Action = "unlock"
	ActionDelete         Action = "delete"

	// Devices: a network (Rackspace's virtual interface, Nova's os-interface) or a volume
	// put on or taken off a server. Nova shows no task_state while they run.
	ActionAttachInterface Action = "attachInterface"
	ActionDetachInterface Action = "detachInterface"
	ActionAttachVolume    Action = "attachVolume"
	ActionDetachVolume    Action = "detachVolume"
	// ActionSwapVolume replaces an attached volume by another on the same device (Nova's
	// swap volume, PUT os-volume_attachments with a new volumeId): a detach then an attach.
	ActionSwapVolume Action = "swapVolume"
)

// AllActions lists every Action in the order of the guard table.
var AllActions = []Action{
	ActionStop, ActionStart, ActionPause, ActionUnpause, ActionSuspend,
	ActionResume, ActionRebootSoft, ActionRebootHard, ActionRebuild,
	ActionResize, ActionConfirmResize, ActionRevertResize, ActionRescue,
	ActionUnrescue, ActionCreateImage, ActionChangePassword, ActionShelve,
	ActionShelveOffload, ActionUnshelve, ActionLock, ActionUnlock, ActionDelete,
	ActionAttachInterface, ActionDetachInterface, ActionAttachVolume, ActionDetachVolume,
	ActionSwapVolume,
}

// Guard is one row of the table.
type Guard struct {
	Action Action
	// NovaName is the action name Nova's API layer passes to
	// raise_http_conflict_for_instance_invalid_state, i.e. what appears in
	// "Cannot '<NovaName>' instance ...". Both reboots are "reboot".
	NovaName string
	// AllowedVM are the vm_states the action may start from; nil means any.
	AllowedVM []VMState
	// AllowedTask are the task_states the action may start from; nil means
	// any. Nova's decorator default is [None], i.e. []TaskState{TaskNone}.
	AllowedTask []TaskState
	// Steps are the task_states the server shows while the action runs, in
	// the order Nova sets them on the common path. nil means Nova shows no
	// task_state at all (lock/unlock are instant; confirmResize runs with
	// task_state None). See StepsFrom for the state-dependent variants.
	Steps []TaskState
	// LockRefuses is true if a locked server refuses the action for
	// non-admins, i.e. Nova decorates it with @check_instance_lock.
	LockRefuses bool
	// MustHaveLaunched mirrors check_instance_state's must_have_launched:
	// Nova refuses the action if the server never finished a boot
	// (launched_at unset). Only delete (and lock/unlock, which have no
	// state check at all) skip it.
	MustHaveLaunched bool
}

// Shorthands to keep the table readable.
var (
	idle    = []TaskState{TaskNone} // Nova's default task_state=(None,)
	anyVM   []VMState               // nil: no vm_state check
	anyTask []TaskState             // nil: no task_state check
)

func vms(v ...VMState) []VMState       { return v }
func tasks(t ...TaskState) []TaskState { return t }

// allowHardReboot is vm_states.ALLOW_HARD_REBOOT (ALLOW_SOFT_REBOOT=[ACTIVE]
// plus STOPPED, PAUSED, SUSPENDED, ERROR): a hard reboot is how users recover
// a server from almost any settled state.
var allowHardReboot = vms(VMActive, VMStopped, VMPaused, VMSuspended, VMError)

// allowReboot is task_states.ALLOW_REBOOT: a hard reboot may pre-empt a soft
// reboot or a stuck pause/unpause/suspend/resume. It deliberately lacks
// reboot_pending_hard and reboot_started_hard: once the compute host has
// started a hard reboot, another one is refused.
var allowReboot = tasks(TaskNone, TaskRebooting, TaskRebootPending, TaskRebootStarted,
	TaskResuming, TaskRebootingHard, TaskUnpausing, TaskPausing, TaskSuspending)

// Guards is the whole table, one row per Action, in AllActions order. Each
// row cites the nova/compute/api.py (Zed) method whose decorators it mirrors.
var Guards = []Guard{
	// API.stop: @check_instance_lock @check_instance_state(vm_state=[ACTIVE, ERROR]);
	// force_stop sets POWERING_OFF. Stopping an errored server is allowed so a
	// broken guest can be shut down.
	{
		Action:           ActionStop,
		NovaName:         "stop",
		AllowedVM:        vms(VMActive, VMError),
		AllowedTask:      idle,
		Steps:            tasks(TaskPoweringOff),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.start: @check_instance_lock @check_instance_state(vm_state=[STOPPED]).
	{
		Action:           ActionStart,
		NovaName:         "start",
		AllowedVM:        vms(VMStopped),
		AllowedTask:      idle,
		Steps:            tasks(TaskPoweringOn),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.pause: @check_instance_lock @check_instance_state(vm_state=[ACTIVE]).
	{
		Action:           ActionPause,
		NovaName:         "pause",
		AllowedVM:        vms(VMActive),
		AllowedTask:      idle,
		Steps:            tasks(TaskPausing),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.unpause: @check_instance_lock @check_instance_state(vm_state=[PAUSED]).
	{
		Action:           ActionUnpause,
		NovaName:         "unpause",
		AllowedVM:        vms(VMPaused),
		AllowedTask:      idle,
		Steps:            tasks(TaskUnpausing),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.suspend: @check_instance_lock @check_instance_state(vm_state=[ACTIVE]).
	{
		Action:           ActionSuspend,
		NovaName:         "suspend",
		AllowedVM:        vms(VMActive),
		AllowedTask:      idle,
		Steps:            tasks(TaskSuspending),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.resume: @check_instance_lock @check_instance_state(vm_state=[SUSPENDED]).
	{
		Action:           ActionResume,
		NovaName:         "resume",
		AllowedVM:        vms(VMSuspended),
		AllowedTask:      idle,
		Steps:            tasks(TaskResuming),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.reboot (@check_instance_lock) -> API._soft_reboot:
	// @check_instance_state(vm_state=ALLOW_SOFT_REBOOT=[ACTIVE], task_state=[None]).
	// The manager's reboot_instance then sets REBOOT_PENDING and REBOOT_STARTED.
	{
		Action:           ActionRebootSoft,
		NovaName:         "reboot",
		AllowedVM:        vms(VMActive),
		AllowedTask:      idle,
		Steps:            tasks(TaskRebooting, TaskRebootPending, TaskRebootStarted),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.reboot -> API._hard_reboot:
	// @check_instance_state(vm_state=ALLOW_HARD_REBOOT, task_state=ALLOW_REBOOT).
	{
		Action:           ActionRebootHard,
		NovaName:         "reboot",
		AllowedVM:        allowHardReboot,
		AllowedTask:      allowReboot,
		Steps:            tasks(TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.rebuild: @check_instance_lock
	// @check_instance_state(vm_state=[ACTIVE, STOPPED, ERROR]); the manager's
	// rebuild_instance walks rebuild_states.
	{
		Action:           ActionRebuild,
		NovaName:         "rebuild",
		AllowedVM:        vms(VMActive, VMStopped, VMError),
		AllowedTask:      idle,
		Steps:            tasks(TaskRebuilding, TaskRebuildBlockDeviceMapping, TaskRebuildSpawning),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.resize: @check_instance_lock @check_instance_state(vm_state=[ACTIVE, STOPPED]);
	// API sets RESIZE_PREP, the manager resize_instance/finish_resize the rest.
	{
		Action:           ActionResize,
		NovaName:         "resize",
		AllowedVM:        vms(VMActive, VMStopped),
		AllowedTask:      idle,
		Steps:            tasks(TaskResizePrep, TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.confirm_resize: @check_instance_lock @check_instance_state(vm_state=[RESIZED]).
	// Nova sets no task_state for a confirm (RESIZE_CONFIRMING is unused): the
	// server shows VERIFY_RESIZE/None until the manager flips it.
	{
		Action:           ActionConfirmResize,
		NovaName:         "confirmResize",
		AllowedVM:        vms(VMResized),
		AllowedTask:      idle,
		Steps:            nil,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.revert_resize: @check_instance_lock @check_instance_state(vm_state=[RESIZED]).
	{
		Action:           ActionRevertResize,
		NovaName:         "revertResize",
		AllowedVM:        vms(VMResized),
		AllowedTask:      idle,
		Steps:            tasks(TaskResizeReverting),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.rescue: @check_instance_lock
	// @check_instance_state(vm_state=[ACTIVE, STOPPED, ERROR]); rescue exists
	// to recover broken guests, hence error is allowed.
	{
		Action:           ActionRescue,
		NovaName:         "rescue",
		AllowedVM:        vms(VMActive, VMStopped, VMError),
		AllowedTask:      idle,
		Steps:            tasks(TaskRescuing),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.unrescue: @check_instance_lock @check_instance_state(vm_state=[RESCUED]).
	{
		Action:           ActionUnrescue,
		NovaName:         "unrescue",
		AllowedVM:        vms(VMRescued),
		AllowedTask:      idle,
		Steps:            tasks(TaskUnrescuing),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.snapshot: @check_instance_state(vm_state=[ACTIVE, STOPPED, PAUSED,
	// SUSPENDED]) and deliberately NO @check_instance_lock ("lock is intended
	// to prevent accidental change/delete of instances"). The API sets
	// IMAGE_SNAPSHOT_PENDING, the manager IMAGE_SNAPSHOT, the driver
	// IMAGE_PENDING_UPLOAD then IMAGE_UPLOADING.
	{
		Action:           ActionCreateImage,
		NovaName:         "createImage",
		AllowedVM:        vms(VMActive, VMStopped, VMPaused, VMSuspended),
		AllowedTask:      idle,
		Steps:            tasks(TaskImageSnapshotPending, TaskImageSnapshot, TaskImagePendingUpload, TaskImageUploading),
		LockRefuses:      false,
		MustHaveLaunched: true,
	},
	// API.set_admin_password: @check_instance_lock @check_instance_state(vm_state=[ACTIVE]).
	{
		Action:           ActionChangePassword,
		NovaName:         "changePassword",
		AllowedVM:        vms(VMActive),
		AllowedTask:      idle,
		Steps:            tasks(TaskUpdatingPassword),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.shelve: @check_instance_lock @check_instance_state(vm_state=[ACTIVE,
	// STOPPED, PAUSED, SUSPENDED]); the manager maps the driver's snapshot
	// steps onto the SHELVING_* task_states.
	{
		Action:           ActionShelve,
		NovaName:         "shelve",
		AllowedVM:        vms(VMActive, VMStopped, VMPaused, VMSuspended),
		AllowedTask:      idle,
		Steps:            tasks(TaskShelving, TaskShelvingImagePendingUpload, TaskShelvingImageUploading),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.shelve_offload: @check_instance_lock @check_instance_state(vm_state=[SHELVED]).
	{
		Action:           ActionShelveOffload,
		NovaName:         "shelveOffload",
		AllowedVM:        vms(VMShelved),
		AllowedTask:      idle,
		Steps:            tasks(TaskShelvingOffloading),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.unshelve: @check_instance_lock
	// @check_instance_state(vm_state=[SHELVED, SHELVED_OFFLOADED]). Steps are
	// the offloaded path (the default, shelved_offload_time=0): the manager's
	// _unshelve_instance sets SPAWNING.
	{
		Action:           ActionUnshelve,
		NovaName:         "unshelve",
		AllowedVM:        vms(VMShelved, VMShelvedOffloaded),
		AllowedTask:      idle,
		Steps:            tasks(TaskUnshelving, TaskSpawning),
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.lock / API.unlock carry no state decorator: locking is metadata and
	// must work whatever the server is doing. They are also never refused by
	// the lock itself (who may unlock is policy, not state).
	{
		Action:           ActionLock,
		NovaName:         "lock",
		AllowedVM:        anyVM,
		AllowedTask:      anyTask,
		Steps:            nil,
		LockRefuses:      false,
		MustHaveLaunched: false,
	},
	{
		Action:           ActionUnlock,
		NovaName:         "unlock",
		AllowedVM:        anyVM,
		AllowedTask:      anyTask,
		Steps:            nil,
		LockRefuses:      false,
		MustHaveLaunched: false,
	},
	// API.delete: @check_instance_lock @check_instance_state(vm_state=None,
	// task_state=None, must_have_launched=False) — "we allow delete to be
	// called no matter what vm_state says", including mid-task and mid-build.
	{
		Action:           ActionDelete,
		NovaName:         "delete",
		AllowedVM:        anyVM,
		AllowedTask:      anyTask,
		Steps:            tasks(TaskDeleting),
		LockRefuses:      true,
		MustHaveLaunched: false,
	},
	// API.attach_interface / API.detach_interface: @check_instance_lock
	// @check_instance_state(vm_state=[ACTIVE, PAUSED, STOPPED], task_state=[None]).
	// The compute manager attaches under the instance's lock and sets no task_state.
	{
		Action:           ActionAttachInterface,
		NovaName:         "attach_interface",
		AllowedVM:        allowInterface,
		AllowedTask:      idle,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	{
		Action:           ActionDetachInterface,
		NovaName:         "detach_interface",
		AllowedVM:        allowInterface,
		AllowedTask:      idle,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.attach_volume / API.detach_volume: @check_instance_lock
	// @check_instance_state(vm_state=[ACTIVE, PAUSED, STOPPED, RESIZED, SOFT_DELETED,
	// SHELVED, SHELVED_OFFLOADED]) with the default task_state=[None]; no task_state is set.
	{
		Action:           ActionAttachVolume,
		NovaName:         "attach_volume",
		AllowedVM:        allowVolume,
		AllowedTask:      idle,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	{
		Action:           ActionDetachVolume,
		NovaName:         "detach_volume",
		AllowedVM:        allowVolume,
		AllowedTask:      idle,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
	// API.swap_volume: @check_instance_lock @check_instance_state(vm_state=[ACTIVE, PAUSED,
	// RESIZED]) with the default task_state=[None].
	{
		Action:           ActionSwapVolume,
		NovaName:         "swap_volume",
		AllowedVM:        vms(VMActive, VMPaused, VMResized),
		AllowedTask:      idle,
		LockRefuses:      true,
		MustHaveLaunched: true,
	},
}

// allowInterface and allowVolume are the vm_states of Nova's interface and volume guards.
var (
	allowInterface = vms(VMActive, VMPaused, VMStopped)
	allowVolume    = vms(VMActive, VMPaused, VMStopped, VMResized, VMSoftDeleted, VMShelved, VMShelvedOffloaded)
)

// guardIndex is built once from Guards for GuardFor and Check.
var guardIndex = func() map[Action]int {
	m := make(map[Action]int, len(Guards))
	for i, g := range Guards {
		m[g.Action] = i
	}
	return m
}()

// GuardFor returns the guard row for a, and false if a is not an Action Kova
// knows.
func GuardFor(a Action) (Guard, bool) {
	i, ok := guardIndex[a]
	if !ok {
		return Guard{}, false
	}
	return Guards[i], true
}

// StepsFrom returns the task_states Nova shows for action a started from s,
// including the state-dependent tails the Guard's common-path Steps leave out:
//
//   - unshelve of a shelved (not offloaded) server: the conductor just powers
//     it back on (unshelving, powering-on) instead of spawning;
//   - rebuild of a stopped server: after rebuild_spawning the manager brings
//     the server back to its original state via powering-off (Nova shows
//     vm_state active during that last step);
//   - revertResize when prev (old_vm_state) is stopped: finish_revert_resize
//     ends with powering-off.
//
// For every other case it returns GuardFor(a).Steps.
func StepsFrom(a Action, s State, prev VMState) []TaskState {
	g, ok := GuardFor(a)
	if !ok {
		return nil
	}
	switch {
	case a == ActionUnshelve && s.VM == VMShelved:
		return tasks(TaskUnshelving, TaskPoweringOn)
	case rebuildsStopped(a, s, prev),
		a == ActionRevertResize && prev == VMStopped:
		return append(append([]TaskState(nil), g.Steps...), TaskPoweringOff)
	}
	return g.Steps
}

// rebuildsStopped says whether action a is the rebuild of a stopped server: s is where it
// started, or prev (the vm_state it started from) says stopped once its last step shows
// vm_state active (AtStep).
func rebuildsStopped(a Action, s State, prev VMState) bool {
	return a == ActionRebuild && (s.VM == VMStopped || prev == VMStopped)
}

// AtStep is the state Nova shows while action a, started from s (prev: the vm_state it
// started from, Nova's old_vm_state for a resize), is at step i of StepsFrom(a, s, prev):
// s with that step's task. The rebuild of a stopped server shows its last step, powering-off,
// with vm_state active and the guest running (status ACTIVE), as Nova's compute manager
// saves the rebuilt, spawned guest so before it stops it ("bringing vm to original state").
func AtStep(a Action, s State, prev VMState, i int) State {
	steps := StepsFrom(a, s, prev)
	if len(steps) == 0 {
		return s
	}
	i = min(max(i, 0), len(steps)-1)
	s.Task = steps[i]
	if rebuildsStopped(a, s, prev) && i == len(steps)-1 {
		s.VM, s.Power = VMActive, PowerRunning
	}
	return s
}
