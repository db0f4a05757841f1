package lifecycle

// PowerSync is what Nova's periodic power-state sync does about one instance that has no
// task running: power_state always takes what the hypervisor says, and where vm_state and
// the hypervisor disagree Nova either calls the stop API (force_stop) or ignores the
// discrepancy and logs why.
type PowerSync struct {
	// Power is the power_state to record: always the hypervisor's.
	Power PowerState
	// Stop says Nova calls the stop API: the server goes through powering-off to
	// SHUTOFF, as a user's stop would (from STOPPED too: force_stop skips the vm_state
	// check).
	Stop bool
	// Log is Nova's log line for the discrepancy ("" when there is none).
	Log string
}

// SyncPowerState decides, as nova/compute/manager.py _sync_instance_power_state (Zed)
// does, what to do about a server in vm_state vm with no task whose instance the
// hypervisor reports in power state observed. Callers skip servers with a task, as
// Nova does ("During sync_power_state the instance has a pending task. Skip.").
func SyncPowerState(vm VMState, observed PowerState) PowerSync {
	out := PowerSync{Power: observed}
	switch vm {
	case VMActive:
		switch observed {
		case PowerShutdown, PowerCrashed:
			out.Stop, out.Log = true, "Instance shutdown by itself. Calling the stop API."
		case PowerSuspended:
			out.Stop, out.Log = true, "Instance is suspended unexpectedly. Calling the stop API."
		case PowerPaused:
			// Something outside (a snapshot tool, an operator) may pause a guest for a
			// while; Nova leaves it alone (bug 1097806).
			out.Log = "Instance is paused unexpectedly. Ignore."
		case PowerNoState:
			out.Log = "Instance is unexpectedly not found. Ignore."
		}
	case VMStopped:
		if observed != PowerNoState && observed != PowerShutdown && observed != PowerCrashed {
			out.Stop, out.Log = true, "Instance is not stopped. Calling the stop API."
		}
	case VMPaused:
		if observed == PowerShutdown || observed == PowerCrashed {
			out.Stop, out.Log = true, "Paused instance shutdown by itself. Calling the stop API."
		}
	case VMSoftDeleted, VMDeleted:
		if observed != PowerNoState && observed != PowerShutdown {
			out.Log = "Instance is not (soft-)deleted."
		}
	}
	// building, rescued, resized, suspended, error and the shelved states: Nova ignores
	// the discrepancy and only records the power state.
	return out
}
