// Package lifecycle is Kova's single source of truth for OpenStack Nova's
// server state machine: vm_state, task_state and power_state, the mapping of
// those to the API "status" string, and the guard table that says which server
// action may start from which state.
//
// Everything here is pure (no I/O, no clocks, no Kubernetes types) so that the
// controller, the admission webhook and the REST shim can share it and can
// never disagree with each other about what Nova would do.
//
// The reference is Nova Zed (unmaintained/zed): nova/compute/vm_states.py,
// nova/compute/task_states.py, nova/compute/power_state.py,
// nova/objects/fields.py, the @check_instance_lock and @check_instance_state
// decorators in nova/compute/api.py, _STATE_MAP and
// raise_http_conflict_for_instance_invalid_state in
// nova/api/openstack/common.py, and the task_state transitions made by
// nova/compute/manager.py. Strings and messages are byte-for-byte Nova's so
// that clients which match on them keep working.
package lifecycle
