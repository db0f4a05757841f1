package lifecycle

import "slices"

// VMState is Nova's vm_state: the stable state a user expects the server to
// be in when no task is running. Values are nova.objects.fields.InstanceState.
type VMState string

// The vm_states, spelled exactly as Nova stores and returns them. Note the
// odd hyphen in "soft-delete": that is Nova's spelling, not a typo.
const (
	VMActive           VMState = "active"
	VMBuilding         VMState = "building"
	VMPaused           VMState = "paused"
	VMSuspended        VMState = "suspended"
	VMStopped          VMState = "stopped"
	VMRescued          VMState = "rescued"
	VMResized          VMState = "resized"
	VMSoftDeleted      VMState = "soft-delete"
	VMDeleted          VMState = "deleted"
	VMError            VMState = "error"
	VMShelved          VMState = "shelved"
	VMShelvedOffloaded VMState = "shelved_offloaded"
)

// AllVMStates lists every VMState in a stable order (Nova's InstanceState.ALL
// order, so iteration in tests and CRD enums reads like Nova's source).
var AllVMStates = []VMState{
	VMActive, VMBuilding, VMPaused, VMSuspended, VMStopped, VMRescued,
	VMResized, VMSoftDeleted, VMDeleted, VMError, VMShelved, VMShelvedOffloaded,
}

// Valid reports whether v is one of Nova's vm_states.
func (v VMState) Valid() bool {
	return slices.Contains(AllVMStates, v)
}

// TaskState is Nova's task_state: what is happening to the server right now.
// TaskNone ("") is Nova's null: no task is running.
type TaskState string

// TaskNone means no task is running (Nova's task_state None / JSON null).
const TaskNone TaskState = ""

// The task_states, spelled exactly as nova.objects.fields.InstanceTaskState.
// Several use hyphens rather than underscores ("powering-off",
// "soft-deleting"); that is Nova's spelling.
const (
	// Build (nova/compute/api.py create, nova/compute/manager.py build).
	TaskScheduling         TaskState = "scheduling"
	TaskBlockDeviceMapping TaskState = "block_device_mapping"
	TaskNetworking         TaskState = "networking"
	TaskSpawning           TaskState = "spawning"

	// Snapshot (createImage) and backup.
	TaskImageSnapshot        TaskState = "image_snapshot"
	TaskImageSnapshotPending TaskState = "image_snapshot_pending"
	TaskImagePendingUpload   TaskState = "image_pending_upload"
	TaskImageUploading       TaskState = "image_uploading"
	TaskImageBackup          TaskState = "image_backup"

	TaskUpdatingPassword TaskState = "updating_password"

	// Resize / cold migrate.
	TaskResizePrep      TaskState = "resize_prep"
	TaskResizeMigrating TaskState = "resize_migrating"
	TaskResizeMigrated  TaskState = "resize_migrated"
	TaskResizeFinish    TaskState = "resize_finish"
	TaskResizeReverting TaskState = "resize_reverting"
	// TaskResizeConfirming exists in Nova's enum but Nova Zed never sets it:
	// a confirm runs with task_state None.
	TaskResizeConfirming TaskState = "resize_confirming"

	// Reboots.
	TaskRebooting         TaskState = "rebooting"
	TaskRebootPending     TaskState = "reboot_pending"
	TaskRebootStarted     TaskState = "reboot_started"
	TaskRebootingHard     TaskState = "rebooting_hard"
	TaskRebootPendingHard TaskState = "reboot_pending_hard"
	TaskRebootStartedHard TaskState = "reboot_started_hard"

	TaskPausing     TaskState = "pausing"
	TaskUnpausing   TaskState = "unpausing"
	TaskSuspending  TaskState = "suspending"
	TaskResuming    TaskState = "resuming"
	TaskPoweringOff TaskState = "powering-off"
	TaskPoweringOn  TaskState = "powering-on"
	TaskRescuing    TaskState = "rescuing"
	TaskUnrescuing  TaskState = "unrescuing"

	// Rebuild.
	TaskRebuilding                TaskState = "rebuilding"
	TaskRebuildBlockDeviceMapping TaskState = "rebuild_block_device_mapping"
	TaskRebuildSpawning           TaskState = "rebuild_spawning"

	TaskMigrating    TaskState = "migrating"
	TaskDeleting     TaskState = "deleting"
	TaskSoftDeleting TaskState = "soft-deleting"
	TaskRestoring    TaskState = "restoring"

	// Shelve.
	TaskShelving                   TaskState = "shelving"
	TaskShelvingImagePendingUpload TaskState = "shelving_image_pending_upload"
	TaskShelvingImageUploading     TaskState = "shelving_image_uploading"
	TaskShelvingOffloading         TaskState = "shelving_offloading"
	TaskUnshelving                 TaskState = "unshelving"
)

// AllTaskStates lists every non-null task_state in Nova's
// InstanceTaskState.ALL order. TaskNone is not included.
var AllTaskStates = []TaskState{
	TaskScheduling, TaskBlockDeviceMapping, TaskNetworking, TaskSpawning,
	TaskImageSnapshot, TaskImageSnapshotPending, TaskImagePendingUpload,
	TaskImageUploading, TaskImageBackup, TaskUpdatingPassword, TaskResizePrep,
	TaskResizeMigrating, TaskResizeMigrated, TaskResizeFinish, TaskResizeReverting,
	TaskResizeConfirming, TaskRebooting, TaskRebootPending, TaskRebootStarted,
	TaskRebootingHard, TaskRebootPendingHard, TaskRebootStartedHard, TaskPausing,
	TaskUnpausing, TaskSuspending, TaskResuming, TaskPoweringOff, TaskPoweringOn,
	TaskRescuing, TaskUnrescuing, TaskRebuilding, TaskRebuildBlockDeviceMapping,
	TaskRebuildSpawning, TaskMigrating, TaskDeleting, TaskSoftDeleting, TaskRestoring,
	TaskShelving, TaskShelvingImagePendingUpload, TaskShelvingImageUploading,
	TaskShelvingOffloading, TaskUnshelving,
}

// Valid reports whether t is TaskNone or one of Nova's task_states.
func (t TaskState) Valid() bool {
	return t == TaskNone || slices.Contains(AllTaskStates, t)
}

// NovaString renders t the way Nova's Python would interpolate it into a
// message: "None" for no task, the raw string otherwise.
func (t TaskState) NovaString() string {
	if t == TaskNone {
		return "None"
	}
	return string(t)
}

// PowerState is Nova's power_state: what the hypervisor last reported. The
// integers are indexes into nova.objects.fields.InstancePowerState.ALL (2 and
// 5 are unused gaps kept for compatibility), and are what the API returns in
// OS-EXT-STS:power_state.
type PowerState int32

// The power states Nova uses.
const (
	PowerNoState   PowerState = 0
	PowerRunning   PowerState = 1
	PowerPaused    PowerState = 3
	PowerShutdown  PowerState = 4
	PowerCrashed   PowerState = 6
	PowerSuspended PowerState = 7
)

// powerNames is python-openstackclient's PowerStateColumn table, so that what
// Kova prints matches what "openstack server show" prints. Indexes 2 and 5 are
// Nova's unused gaps and print as "".
var powerNames = [...]string{"NOSTATE", "Running", "", "Paused", "Shutdown", "", "Crashed", "Suspended"}

// String returns the name the openstack CLI shows for p ("Running",
// "Shutdown", ...), or "N/A" for a value outside Nova's table, as the CLI does.
func (p PowerState) String() string {
	if p < 0 || int(p) >= len(powerNames) {
		return "N/A"
	}
	return powerNames[p]
}

// State is what Nova stores for an instance.
type State struct {
	VM    VMState
	Task  TaskState
	Power PowerState
}

// BuildSteps are the task_states a boot moves through, in order: the API sets
// scheduling (compute API create), then the compute manager sets networking
// (_allocate_network), block_device_mapping (_build_resources) and spawning
// (_build_and_run_instance). Nova also briefly shows task_state None between
// scheduling and networking (_do_build_and_run_instance resets it when the
// compute host picks the request up); that idle gap is not a step.
var BuildSteps = []TaskState{TaskScheduling, TaskNetworking, TaskBlockDeviceMapping, TaskSpawning}

// Building is the state of a server right after POST /servers is accepted:
// building/scheduling with no power state yet.
func Building() State {
	return State{VM: VMBuilding, Task: TaskScheduling, Power: PowerNoState}
}

// Built is the state at the end of a successful build (compute manager
// _build_and_run_instance): active, no task, running.
func Built() State {
	return State{VM: VMActive, Task: TaskNone, Power: PowerRunning}
}

// Failed returns the state after a failed task: vm_state error, no task, and
// whatever power state the hypervisor reports. This is where Nova's manager
// lands a server when a build, rebuild, resize or similar fails
// (_set_instance_obj_error_state, with @reverts_task_state clearing the task).
// Some lighter failures (e.g. a failed pause) only clear the task and keep the
// vm_state; callers that want that just set Task to TaskNone themselves.
func Failed(power PowerState) State {
	return State{VM: VMError, Task: TaskNone, Power: power}
}
