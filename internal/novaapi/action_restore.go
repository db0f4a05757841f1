package novaapi

import (
	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// restore is Nova's deferred-delete restore. Kova deletes at once (Nova's
// reclaim_instance_interval 0), so no server is ever SOFT_DELETED, and restore finds every
// server in the wrong state: Nova's 409 for its guards (the lock, then vm_state
// soft-delete), the same answer a Nova without deferred delete gives.
func (h *handler) restore(rq *request, srv *computev1.Server, _ any) error {
	cur, st, err := h.shownState(rq.ctx, srv)
	if err != nil {
		return err
	}
	if cur.Status.Locked {
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if !admin {
			return conflict("Instance %s is locked", cur.UID)
		}
	}
	if st.VM != lifecycle.VMSoftDeleted {
		return conflict("Cannot 'restore' instance %s while it is in vm_state %s", cur.UID, st.VM)
	}
	return notImplemented("The restore action")
}
