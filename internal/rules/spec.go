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
// reads it forward (NextSpecAction), the webhook backward (DesiredFromStatus) and the
// REST shim from the action's side (PowerAfter).
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

// PowerAfter is the power state a spec asks for once the Nova action a has been asked:
// os-stop asks for Stopped, unpause, resume, os-start and unshelve for Active, and so on.
// It is false for an action with no power state of its own.
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

// ApplyAction changes spec as the Nova action a asks, for the actions whose desired-state
// form is a power state or rescue; it reports false for any other action.
func ApplyAction(spec *computev1.ServerSpec, a lifecycle.Action) bool {
	switch a {
	case lifecycle.ActionRescue, lifecycle.ActionUnrescue:
		spec.Rescue = a == lifecycle.ActionRescue
		return true
	}
	p, ok := PowerAfter(a)
	if ok {
		spec.PowerState = p
	}
	return ok
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

// NextSpecAction is the one lifecycle action that moves a server from its status toward
// its spec, if any. Every spec change maps to exactly one Nova action, tried from the
// state the server is in: a change the lifecycle refuses there (a flavor change while
// PAUSED) is refused, as Nova would, rather than routed through other states. It reads
// spec and status as a whole, so what it compares the spec with is its own business.
func NextSpecAction(spec *computev1.ServerSpec, st *computev1.ServerStatus, offloadShelved bool) (lifecycle.Action, bool) {
	vm := lifecycle.VMState(st.VMState)
	switch vm {
	case "", lifecycle.VMBuilding, lifecycle.VMDeleted, lifecycle.VMSoftDeleted:
		return "", false
	case lifecycle.VMError:
		return errorSpecAction(spec, st)
	}
	if spec.Rescue != (vm == lifecycle.VMRescued) {
		if spec.Rescue {
			return lifecycle.ActionRescue, true
		}
		return lifecycle.ActionUnrescue, true
	}
	if vm == lifecycle.VMResized && st.OldFlavor != "" && spec.FlavorRef == st.OldFlavor {
		// Asking for the old flavor back during VERIFY_RESIZE is a revert.
		return lifecycle.ActionRevertResize, true
	}
	shelved := vm == lifecycle.VMShelved || vm == lifecycle.VMShelvedOffloaded
	if want := spec.PowerState == computev1.PowerShelved; want != shelved {
		if want {
			return lifecycle.ActionShelve, true
		}
		return lifecycle.ActionUnshelve, true
	}
	if vm == lifecycle.VMShelved && offloadShelved {
		return lifecycle.ActionShelveOffload, true
	}
	if !shelved {
		if a, ok := powerAction(spec.PowerState, poweredAs(vm, lifecycle.PowerState(st.PowerState))); ok {
			return a, true
		}
	}
	if spec.FlavorRef != st.Flavor {
		return lifecycle.ActionResize, true
	}
	if spec.ImageRef != st.Image {
		return lifecycle.ActionRebuild, true
	}
	return "", false
}

// errorSpecAction is the spec's action for a server in ERROR, from which Nova allows a
// rescue, a rebuild or a stop (and a hard reboot).
func errorSpecAction(spec *computev1.ServerSpec, st *computev1.ServerStatus) (lifecycle.Action, bool) {
	switch {
	case spec.Rescue:
		return lifecycle.ActionRescue, true
	case spec.ImageRef != st.Image:
		return lifecycle.ActionRebuild, true
	case spec.PowerState == computev1.PowerStopped:
		return lifecycle.ActionStop, true
	}
	return "", false
}

// AtDesiredState says whether the server matches its spec and waits for nothing.
func AtDesiredState(srv *computev1.Server) bool {
	_, pending := NextSpecAction(&srv.Spec, &srv.Status, false)
	return !pending && srv.Status.VMState != string(lifecycle.VMResized)
}

// DesiredFromStatus is a spec that asks for exactly what the server is now: spec's other
// fields, with the flavor, image, rescue and power state of the status.
func DesiredFromStatus(srv *computev1.Server) computev1.ServerSpec {
	spec := srv.Spec
	spec.FlavorRef, spec.ImageRef = srv.Status.Flavor, srv.Status.Image
	spec.Rescue = srv.Status.VMState == string(lifecycle.VMRescued)
	spec.PowerState = PowerOf(lifecycle.VMState(srv.Status.VMState), lifecycle.PowerState(srv.Status.PowerState))
	return spec
}

// ChangedActions are the lifecycle actions a spec change from old to srv asks for: what
// the new spec wants from the current status that the old spec did not. Each aspect is
// probed alone against the status, with the others as they are now, so each maps to the
// one action Nova would run for it.
func ChangedActions(old, srv *computev1.Server) []lifecycle.Action {
	var out []lifecycle.Action
	base := DesiredFromStatus(old)
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
		if a, ok := NextSpecAction(&probe, &old.Status, false); ok {
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
	return out
}
