package lifecycle

// The API status strings. They are derived, never stored: Nova computes them
// from vm_state and task_state on every read (common.status_from_state).
const (
	StatusBuild            = "BUILD"
	StatusActive           = "ACTIVE"
	StatusShutoff          = "SHUTOFF"
	StatusPaused           = "PAUSED"
	StatusSuspended        = "SUSPENDED"
	StatusRescue           = "RESCUE"
	StatusResize           = "RESIZE"
	StatusVerifyResize     = "VERIFY_RESIZE"
	StatusRevertResize     = "REVERT_RESIZE"
	StatusReboot           = "REBOOT"
	StatusHardReboot       = "HARD_REBOOT"
	StatusRebuild          = "REBUILD"
	StatusPassword         = "PASSWORD"
	StatusMigrating        = "MIGRATING"
	StatusShelved          = "SHELVED"
	StatusShelvedOffloaded = "SHELVED_OFFLOADED"
	StatusError            = "ERROR"
	StatusDeleted          = "DELETED"
	StatusSoftDeleted      = "SOFT_DELETED"
	StatusUnknown          = "UNKNOWN"
)

// AllStatuses is every status string Status can return, including UNKNOWN.
var AllStatuses = []string{
	StatusBuild, StatusActive, StatusShutoff, StatusPaused, StatusSuspended,
	StatusRescue, StatusResize, StatusVerifyResize, StatusRevertResize,
	StatusReboot, StatusHardReboot, StatusRebuild, StatusPassword,
	StatusMigrating, StatusShelved, StatusShelvedOffloaded, StatusError,
	StatusDeleted, StatusSoftDeleted, StatusUnknown,
}

// statusRow is one vm_state's entry in Nova's _STATE_MAP: a default status
// and the task_states that override it.
type statusRow struct {
	def  string
	task map[TaskState]string
}

// stateMap mirrors _STATE_MAP in nova/api/openstack/common.py. Only the
// overrides Nova lists are here; e.g. stopped+powering-on is still SHUTOFF and
// active+pausing is still ACTIVE, because Nova says so. RESIZE_CONFIRMING is
// deliberately absent (commented out in Nova: the API spec has no status for
// it).
var stateMap = map[VMState]statusRow{
	VMActive: {StatusActive, map[TaskState]string{
		TaskRebooting:                 StatusReboot,
		TaskRebootPending:             StatusReboot,
		TaskRebootStarted:             StatusReboot,
		TaskRebootingHard:             StatusHardReboot,
		TaskRebootPendingHard:         StatusHardReboot,
		TaskRebootStartedHard:         StatusHardReboot,
		TaskUpdatingPassword:          StatusPassword,
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
		TaskMigrating:                 StatusMigrating,
		TaskResizePrep:                StatusResize,
		TaskResizeMigrating:           StatusResize,
		TaskResizeMigrated:            StatusResize,
		TaskResizeFinish:              StatusResize,
	}},
	VMBuilding: {StatusBuild, nil},
	// A stopped server can be resized and rebuilt without being started, so
	// those tasks must show through SHUTOFF.
	VMStopped: {StatusShutoff, map[TaskState]string{
		TaskResizePrep:                StatusResize,
		TaskResizeMigrating:           StatusResize,
		TaskResizeMigrated:            StatusResize,
		TaskResizeFinish:              StatusResize,
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
	}},
	VMResized: {StatusVerifyResize, map[TaskState]string{
		TaskResizeReverting: StatusRevertResize,
	}},
	// Paused servers can be live-migrated (compute API live_migrate allows
	// active and paused).
	VMPaused: {StatusPaused, map[TaskState]string{
		TaskMigrating: StatusMigrating,
	}},
	VMSuspended: {StatusSuspended, nil},
	VMRescued:   {StatusRescue, nil},
	// Rebuild is the documented way out of error, so it shows through.
	VMError: {StatusError, map[TaskState]string{
		TaskRebuilding:                StatusRebuild,
		TaskRebuildBlockDeviceMapping: StatusRebuild,
		TaskRebuildSpawning:           StatusRebuild,
	}},
	VMDeleted:          {StatusDeleted, nil},
	VMSoftDeleted:      {StatusSoftDeleted, nil},
	VMShelved:          {StatusShelved, nil},
	VMShelvedOffloaded: {StatusShelvedOffloaded, nil},
}

// Status maps vm_state+task_state to the API status string, as Nova's
// common.status_from_state does: the task override if there is one, else the
// vm_state's default, and UNKNOWN for a vm_state Nova does not know.
func Status(vm VMState, task TaskState) string {
	row, ok := stateMap[vm]
	if !ok {
		return StatusUnknown
	}
	if s, ok := row.task[task]; ok {
		return s
	}
	return row.def
}
