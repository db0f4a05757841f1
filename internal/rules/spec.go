package rules

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// powerRow is one power state a spec may ask for: the vm_states a server in it is in, the
// action that brings a running server there, and the one that brings it back to running.
type powerRow struct {
	power computev1.PowerState
	vms   []lifecycle.VMState
	enter lifecycle.Action
	leave lifecycle.Action
}

// powerTable is the one table between spec.powerState and Nova's actions: the controller
// reads it forward (NextSpecAction), backward (Observed) and from the action's side
// (PowerAfter, what a started action records as carried out).
var powerTable = []powerRow{
	{computev1.PowerActive, []lifecycle.VMState{lifecycle.VMActive}, lifecycle.ActionStart, ""},
	{computev1.PowerStopped, []lifecycle.VMState{lifecycle.VMStopped}, lifecycle.ActionStop, lifecycle.ActionStart},
	{computev1.PowerPaused, []lifecycle.VMState{lifecycle.VMPaused}, lifecycle.ActionPause, lifecycle.ActionUnpause},
	{computev1.PowerSuspended, []lifecycle.VMState{lifecycle.VMSuspended}, lifecycle.ActionSuspend, lifecycle.ActionResume},
	{computev1.PowerShelved, []lifecycle.VMState{lifecycle.VMShelved, lifecycle.VMShelvedOffloaded},
		lifecycle.ActionShelve, lifecycle.ActionUnshelve},
}

func rowOfPower(p computev1.PowerState) (powerRow, bool) {
	for _, r := range powerTable {
		if r.power == p {
			return r, true
		}
	}
	return powerRow{}, false
}

func rowOfVM(vm lifecycle.VMState) (powerRow, bool) {
	for _, r := range powerTable {
		for _, v := range r.vms {
			if v == vm {
				return r, true
			}
		}
	}
	return powerRow{}, false
}

// PowerAfter is the power state the Nova action a takes a server to: os-stop to Stopped,
// unpause, resume, os-start and unshelve to Active, and so on. It is false for an action
// with no power state of its own.
func PowerAfter(a lifecycle.Action) (computev1.PowerState, bool) {
	for _, r := range powerTable {
		switch a {
		case r.enter:
			return r.power, true
		case r.leave:
			return computev1.PowerActive, true
		}
	}
	return "", false
}

// PowerRoute are the Nova actions a client makes to take a server from the power state
// from to to, through Active as a client has to: os-start, unpause, resume or unshelve
// back to Active first, then os-stop, pause, suspend or shelve. An empty power state is
// Active, as a server is created.
func PowerRoute(from, to computev1.PowerState) []lifecycle.Action {
	if from == "" {
		from = computev1.PowerActive
	}
	if to == "" {
		to = computev1.PowerActive
	}
	if from == to {
		return nil
	}
	var out []lifecycle.Action
	if r, ok := rowOfPower(from); ok && r.leave != "" {
		out = append(out, r.leave)
	}
	if r, ok := rowOfPower(to); ok && to != computev1.PowerActive {
		out = append(out, r.enter)
	}
	return out
}

// PowerOf is the power state a spec asks for to keep a server where it is: a rescued server
// runs; a resized one runs or is off as before the resize; one in ERROR counts as running.
func PowerOf(vm lifecycle.VMState, power lifecycle.PowerState) computev1.PowerState {
	if r, ok := rowOfVM(poweredAs(vm, power)); ok {
		return r.power
	}
	return computev1.PowerActive
}

// poweredAs is the vm_state whose power a server has, for comparing with the power its
// spec asks for: a rescued server runs; a resized one runs or is off as before the resize.
func poweredAs(vm lifecycle.VMState, power lifecycle.PowerState) lifecycle.VMState {
	switch vm {
	case lifecycle.VMRescued:
		return lifecycle.VMActive
	case lifecycle.VMResized:
		if power == lifecycle.PowerShutdown {
			return lifecycle.VMStopped
		}
		return lifecycle.VMActive
	}
	return vm
}

// powerAction is the action that brings a server powered as vm to the desired power
// (shelving is not a power change here: NextSpecAction handles it first).
func powerAction(want computev1.PowerState, vm lifecycle.VMState) (lifecycle.Action, bool) {
	target, ok := rowOfPower(want)
	if !ok || target.power == computev1.PowerShelved {
		return "", false
	}
	for _, v := range target.vms {
		if v == vm {
			return "", false
		}
	}
	if want != computev1.PowerActive {
		return target.enter, true
	}
	if from, ok := rowOfVM(vm); ok && from.leave != "" {
		return from.leave, true
	}
	return lifecycle.ActionStart, true
}

// A spec-driven action fires when a spec field moves away from the value last carried out
// (status.applied), not when spec differs from what the server is: an imperative action (a
// ServerAction, a REST call) changes what the server is and never spec, so a GitOps tool
// that applies the same spec again after one starts nothing. See computev1.ServerApplied.

// Applied is what the controller last carried out of a server's spec. A server from before
// status.applied existed has carried out what it is.
func Applied(st *computev1.ServerStatus) computev1.ServerApplied {
	if st.Applied != nil {
		return *st.Applied
	}
	return Observed(st)
}

// Observed is what a spec asks for to keep the server exactly as it is: the flavor, image,
// rescue, power state and lock of its status.
func Observed(st *computev1.ServerStatus) computev1.ServerApplied {
	return computev1.ServerApplied{FlavorRef: st.Flavor, ImageRef: st.Image,
		PowerState: PowerOf(lifecycle.VMState(st.VMState), lifecycle.PowerState(st.PowerState)),
		Rescue:     st.VMState == string(lifecycle.VMRescued), Locked: st.Locked, LockedReason: st.LockedReason}
}

// AppliedOf is the record of spec carried out whole.
func AppliedOf(spec *computev1.ServerSpec) computev1.ServerApplied {
	reason := ""
	if spec.Locked {
		reason = spec.LockedReason
	}
	return computev1.ServerApplied{FlavorRef: spec.FlavorRef, ImageRef: spec.ImageRef, PowerState: spec.PowerState,
		Rescue: spec.Rescue, Locked: spec.Locked, LockedReason: reason}
}

// CarriesOut says whether a server in this state has carried out its spec once
// NextSpecAction finds nothing to start: every changed field is then one the server
// already is. A server that is building, gone or in ERROR (where most actions wait for it
// to leave) has not.
func CarriesOut(st *computev1.ServerStatus) bool {
	switch lifecycle.VMState(st.VMState) {
	case "", lifecycle.VMBuilding, lifecycle.VMDeleted, lifecycle.VMSoftDeleted, lifecycle.VMError:
		return false
	}
	return true
}

// AfterAction is applied once the spec-driven action a has started: its field records the
// value the action takes it to. That is the spec's value, but for a power action that only
// goes part of the way (an unshelve toward Stopped reaches Active; the stop is to come).
func AfterAction(ap computev1.ServerApplied, spec *computev1.ServerSpec, a lifecycle.Action) computev1.ServerApplied {
	switch a {
	case lifecycle.ActionRescue, lifecycle.ActionUnrescue:
		ap.Rescue = a == lifecycle.ActionRescue
	case lifecycle.ActionResize, lifecycle.ActionRevertResize:
		ap.FlavorRef = spec.FlavorRef
	case lifecycle.ActionRebuild:
		ap.ImageRef = spec.ImageRef
	case lifecycle.ActionLock, lifecycle.ActionUnlock:
		ap.Locked, ap.LockedReason = AppliedOf(spec).Locked, AppliedOf(spec).LockedReason
	default:
		if p, ok := PowerAfter(a); ok {
			ap.PowerState = p
		}
	}
	return ap
}

// LockChange is the lock or unlock a spec change asks for from what was last carried out
// (a new reason on a locked server is a lock again). Lock and unlock are instant in Nova:
// they have no task and need no state.
func LockChange(spec *computev1.ServerSpec, applied computev1.ServerApplied) (lifecycle.Action, bool) {
	want := AppliedOf(spec)
	switch {
	case want.Locked == applied.Locked && want.LockedReason == applied.LockedReason:
		return "", false
	case want.Locked:
		return lifecycle.ActionLock, true
	}
	return lifecycle.ActionUnlock, true
}

// NextSpecAction is the one lifecycle action that a change of spec away from applied (what
// was last carried out) starts, if any. A field that has not changed from applied starts
// nothing, whatever the server is now. A changed field starts the action that takes the
// server from what it is to the new value, tried from the state the server is in: a change
// the lifecycle refuses there (a flavor change while PAUSED) is refused, as Nova would,
// rather than routed through other states. With applied = Observed(status) it says whether
// the server is what its spec asks.
func NextSpecAction(spec *computev1.ServerSpec, st *computev1.ServerStatus, applied computev1.ServerApplied, offloadShelved bool) (lifecycle.Action, bool) {
	vm := lifecycle.VMState(st.VMState)
	switch vm {
	case "", lifecycle.VMBuilding, lifecycle.VMDeleted, lifecycle.VMSoftDeleted:
		return "", false
	case lifecycle.VMError:
		return errorSpecAction(spec, applied)
	}
	if spec.Rescue != applied.Rescue && spec.Rescue != (vm == lifecycle.VMRescued) {
		if spec.Rescue {
			return lifecycle.ActionRescue, true
		}
		return lifecycle.ActionUnrescue, true
	}
	flavor := spec.FlavorRef != applied.FlavorRef
	if flavor && vm == lifecycle.VMResized && st.OldFlavor != "" && spec.FlavorRef == st.OldFlavor {
		// Asking for the old flavor back during VERIFY_RESIZE is a revert.
		return lifecycle.ActionRevertResize, true
	}
	power := spec.PowerState != applied.PowerState
	shelved := vm == lifecycle.VMShelved || vm == lifecycle.VMShelvedOffloaded
	if want := spec.PowerState == computev1.PowerShelved; power && want != shelved {
		if want {
			return lifecycle.ActionShelve, true
		}
		return lifecycle.ActionUnshelve, true
	}
	if vm == lifecycle.VMShelved && offloadShelved {
		return lifecycle.ActionShelveOffload, true
	}
	if power && !shelved {
		if a, ok := powerAction(spec.PowerState, poweredAs(vm, lifecycle.PowerState(st.PowerState))); ok {
			return a, true
		}
	}
	if flavor && spec.FlavorRef != st.Flavor {
		return lifecycle.ActionResize, true
	}
	if spec.ImageRef != applied.ImageRef && spec.ImageRef != st.Image {
		return lifecycle.ActionRebuild, true
	}
	return "", false
}

// errorSpecAction is the spec's action for a server in ERROR, from which Nova allows a
// rescue, a rebuild or a stop (and a hard reboot).
func errorSpecAction(spec *computev1.ServerSpec, applied computev1.ServerApplied) (lifecycle.Action, bool) {
	switch {
	case spec.Rescue && !applied.Rescue:
		return lifecycle.ActionRescue, true
	case spec.ImageRef != applied.ImageRef:
		return lifecycle.ActionRebuild, true
	case spec.PowerState == computev1.PowerStopped && applied.PowerState != computev1.PowerStopped:
		return lifecycle.ActionStop, true
	}
	return "", false
}

// AtDesiredState says whether the server is what its spec asks and waits for nothing. An
// imperative action may have taken it elsewhere: then it is not, though nothing will start.
func AtDesiredState(srv *computev1.Server) bool {
	_, pending := NextSpecAction(&srv.Spec, &srv.Status, Observed(&srv.Status), false)
	return !pending && srv.Status.VMState != string(lifecycle.VMResized)
}

// ChangedActions are the lifecycle actions a spec change from old to srv starts: what each
// changed field asks of the server from what was last carried out, as the controller will
// run it. Each aspect is probed alone, with the others as last carried out, so each maps
// to the one action Nova would run for it.
func ChangedActions(old, srv *computev1.Server) []lifecycle.Action {
	var out []lifecycle.Action
	applied := Applied(&old.Status)
	base := srv.Spec
	base.FlavorRef, base.ImageRef, base.PowerState, base.Rescue = applied.FlavorRef, applied.ImageRef, applied.PowerState, applied.Rescue
	probes := []struct {
		changed bool
		set     func(*computev1.ServerSpec)
	}{
		{srv.Spec.Rescue != old.Spec.Rescue, func(s *computev1.ServerSpec) { s.Rescue = srv.Spec.Rescue }},
		{srv.Spec.PowerState != old.Spec.PowerState, func(s *computev1.ServerSpec) { s.PowerState = srv.Spec.PowerState }},
		{srv.Spec.FlavorRef != old.Spec.FlavorRef, func(s *computev1.ServerSpec) { s.FlavorRef = srv.Spec.FlavorRef }},
		{srv.Spec.ImageRef != old.Spec.ImageRef, func(s *computev1.ServerSpec) { s.ImageRef = srv.Spec.ImageRef }},
	}
	for _, p := range probes {
		if !p.changed {
			continue
		}
		probe := base
		p.set(&probe)
		if a, ok := NextSpecAction(&probe, &old.Status, applied, false); ok {
			out = append(out, a)
		}
	}
	if srv.Spec.Locked != old.Spec.Locked {
		if srv.Spec.Locked {
			out = append(out, lifecycle.ActionLock)
		} else {
			out = append(out, lifecycle.ActionUnlock)
		}
	}
	return append(out, DeviceActions(&old.Spec, &srv.Spec, &old.Status)...)
}
