package lifecycle

// Begin returns the state right after action a is accepted from s. The compute
// API only ever sets task_state when it accepts an action (vm_state and
// power_state change later, on the compute host), so this is s with Task set
// to the first step. Actions with no steps (lock, unlock, confirmResize) and
// unknown actions leave s unchanged.
func Begin(a Action, s State) State {
	g, ok := GuardFor(a)
	if !ok || len(g.Steps) == 0 {
		return s
	}
	s.Task = g.Steps[0]
	return s
}

// Finish returns the state when action a completes successfully, started from
// s (either the original state or the Begin state: vm_state is the same in
// both). prev is Nova's old_vm_state, the vm_state before a resize began
// (active or stopped); it matters for resize, confirmResize and revertResize
// and may be "" otherwise. Task is always TaskNone, except that lock/unlock
// (and unknown actions) return s unchanged, since Nova's lock touches no state.
//
// Power states are those a real hypervisor reports. (The reference transcript
// was recorded with Nova's fake virt driver, which leaves power_state 1 on
// pause and suspend; Kova models libvirt-like Paused/Suspended instead.)
func Finish(a Action, s State, prev VMState) State {
	switch a {
	case ActionStop:
		return settled(VMStopped, PowerShutdown)
	case ActionStart, ActionUnpause, ActionResume, ActionRebootSoft,
		ActionRebootHard, ActionUnrescue, ActionUnshelve:
		return settled(VMActive, PowerRunning)
	case ActionPause:
		return settled(VMPaused, PowerPaused)
	case ActionSuspend:
		return settled(VMSuspended, PowerSuspended)
	case ActionRebuild:
		// manager.rebuild_instance: "bringing vm to original state" — a
		// stopped server is powered off again after the rebuild.
		if rebuildsStopped(a, s, prev) {
			return settled(VMStopped, PowerShutdown)
		}
		return settled(VMActive, PowerRunning)
	case ActionResize:
		// manager._finish_resize powers the guest on only if old_vm_state
		// was not stopped. The API does not change vm_state, so s.VM is the
		// old_vm_state when prev is not given.
		old := prev
		if old == "" {
			old = s.VM
		}
		if old == VMStopped {
			return settled(VMResized, PowerShutdown)
		}
		return settled(VMResized, PowerRunning)
	case ActionConfirmResize:
		// manager._confirm_resize actually derives vm_state from the power
		// state (SHUTDOWN -> stopped, else active); with a known prev the
		// two agree, and without one we use Nova's own rule.
		switch prev {
		case VMStopped:
			return settled(VMStopped, PowerShutdown)
		case VMActive:
			return settled(VMActive, PowerRunning)
		}
		if s.Power == PowerShutdown {
			return settled(VMStopped, PowerShutdown)
		}
		return settled(VMActive, PowerRunning)
	case ActionRevertResize:
		// manager.finish_revert_resize: old_vm_state defaults to active;
		// stopped servers are powered off again.
		if prev == VMStopped {
			return settled(VMStopped, PowerShutdown)
		}
		return settled(VMActive, PowerRunning)
	case ActionRescue:
		// The reference Nova reports power_state 4 (Shutdown) for rescued
		// servers; mirror it.
		return settled(VMRescued, PowerShutdown)
	case ActionCreateImage, ActionChangePassword,
		ActionAttachInterface, ActionDetachInterface, ActionAttachVolume, ActionDetachVolume, ActionSwapVolume:
		return settled(s.VM, s.Power)
	case ActionShelve:
		return settled(VMShelved, PowerShutdown)
	case ActionShelveOffload:
		return settled(VMShelvedOffloaded, PowerShutdown)
	case ActionDelete:
		// manager._delete_instance: vm_state deleted, power NOSTATE.
		return settled(VMDeleted, PowerNoState)
	}
	// lock, unlock and unknown actions.
	return s
}

func settled(vm VMState, p PowerState) State {
	return State{VM: vm, Task: TaskNone, Power: p}
}
