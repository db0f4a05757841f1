package lifecycle

import (
	"fmt"
	"slices"
)

// ConflictError is a refusal Nova answers with HTTP 409 conflictingRequest.
// Message is byte-for-byte the message Nova puts in the body.
type ConflictError struct {
	Action  Action
	Message string
}

// Error returns Message, so it can be put in a response body unchanged.
func (e *ConflictError) Error() string { return e.Message }

// Check returns nil if action a may start now, else a *ConflictError with
// Nova's exact message. locked/admin are the server's lock flag and whether
// the caller has an admin context. It assumes the server has finished a boot
// at least once; use CheckLaunched when that is not known to be true.
func Check(a Action, s State, locked, admin bool, serverID string) error {
	return CheckLaunched(a, s, locked, admin, true, serverID)
}

// CheckLaunched is Check with launched = "launched_at is set" (the server
// booted successfully at least once). Nova's check_instance_state refuses most
// actions on a never-launched server, e.g. stop on a server whose build
// failed, with the generic "is in an invalid state" message.
//
// The order is Nova's decorator order: @check_instance_lock is outermost, then
// check_instance_state tests vm_state, then task_state, then launched_at.
func CheckLaunched(a Action, s State, locked, admin, launched bool, serverID string) error {
	g, ok := GuardFor(a)
	if !ok {
		return fmt.Errorf("lifecycle: unknown action %q", a)
	}
	// check_instance_lock: InstanceIsLocked, which every API handler turns
	// into a 409 with the exception's own message.
	if g.LockRefuses && locked && !admin {
		return &ConflictError{Action: a, Message: fmt.Sprintf("Instance %s is locked", serverID)}
	}
	if g.AllowedVM != nil && !slices.Contains(g.AllowedVM, s.VM) {
		return invalidState(g, "vm_state", string(s.VM), serverID)
	}
	if g.AllowedTask != nil && !slices.Contains(g.AllowedTask, s.Task) {
		return invalidState(g, "task_state", string(s.Task), serverID)
	}
	if g.MustHaveLaunched && !launched {
		// InstanceInvalidState(attr='launched_at', state=None).
		return invalidState(g, "launched_at", "", serverID)
	}
	return nil
}

// invalidState formats like raise_http_conflict_for_instance_invalid_state:
// the specific message needs both attr and state; when the offending state is
// None (Python's None, our ""), Nova falls back to the generic message.
func invalidState(g Guard, attr, state, serverID string) *ConflictError {
	if state == "" {
		return &ConflictError{Action: g.Action, Message: fmt.Sprintf(
			"Instance %s is in an invalid state for '%s'", serverID, g.NovaName)}
	}
	return &ConflictError{Action: g.Action, Message: fmt.Sprintf(
		"Cannot '%s' instance %s while it is in %s %s", g.NovaName, serverID, attr, state)}
}
