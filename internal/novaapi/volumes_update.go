package novaapi

import (
	"net/http"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/rules"
)

// PUT /servers/{id}/os-volume_attachments/{volume_id}: below 2.85 (Kova serves up to 2.79)
// Nova's swap volume, the attached volume replaced by the body's volumeId, which only the
// cloud operator may do (Nova's admin-only swap rule, whatever the volumeId). A swap is
// spec: the entry of spec.volumes names the new claim on the old one's device, and the
// controller carries it out as a detach then an attach; Nova's swap is asynchronous (202)
// too. Through kubectl the same edit (a claim replaced by another on its device) is refused
// to anyone but the cloud operator.

func (h *handler) updateVolumeAttachment(rq *request) error {
	va, err := rq.volumeAttachmentBody(schemas.VolumeAttachmentUpdate(rq.version))
	if err != nil {
		return err
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.adminOnly("os_compute_api:os-volumes-attachments:swap"); err != nil {
		return err
	}
	oldID, newID := rq.param(1), va.VolumeID
	oldPVC, ok, err := h.volume(rq.ctx, srv.Namespace, oldID)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Volume %s could not be found.", oldID)
	}
	// A volume named in the body, not the path: 400, not 404 (Nova's API-WG note).
	newPVC, ok, err := h.volume(rq.ctx, srv.Namespace, newID)
	if err != nil {
		return err
	}
	if !ok {
		return badRequest("Volume %s could not be found.", newID)
	}
	if _, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error { return rq.swapInSpec(s, oldPVC, newPVC) }); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusAccepted)
	return nil
}

// swapInSpec replaces the old claim by the new one in s's spec, on the old one's device,
// with the compute API's checks (swap_volume): the lifecycle (409), the old volume attached
// to this server, the new one attached nowhere, and no smaller (400).
func (rq *request) swapInSpec(s *computev1.Server, oldPVC, newPVC *corev1.PersistentVolumeClaim) error {
	if err := rq.checkDevice(lifecycle.ActionSwapVolume, s); err != nil {
		return err
	}
	i := slices.IndexFunc(s.Spec.Volumes, func(v computev1.VolumeAttachment) bool { return v.ClaimName == oldPVC.Name })
	if i < 0 {
		return badRequest("Invalid volume: Old volume is attached to a different instance.")
	}
	holders, err := rq.h.volumeHolders(rq.ctx, s.Namespace, newPVC.Name, "")
	if err != nil {
		return err
	}
	if len(holders) > 0 || rules.WantsVolume(s, newPVC.Name) {
		return badRequest("Invalid volume: New volume must be detached in order to swap.")
	}
	if n := size(newPVC); n.Cmp(size(oldPVC)) < 0 {
		return badRequest("Invalid volume: New volume must be the same size or larger.")
	}
	v := s.Spec.Volumes[i]
	if a, ok := rules.VolumeAttached(s, oldPVC.Name); ok {
		v.Device = a.Device
	}
	v.ClaimName = newPVC.Name
	s.Spec.Volumes[i] = v
	return nil
}

// size is the storage a claim asks for.
func size(pvc *corev1.PersistentVolumeClaim) resource.Quantity {
	return pvc.Spec.Resources.Requests[corev1.ResourceStorage]
}
