package novaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// Volume attachments (os-volume_attachments) are the entries of Server.spec.volumes, each a
// PersistentVolumeClaim of the tenant's namespace whose uid is the volume's id; Nova's
// attachment id is the volume id (below 2.89, the microversions Kova serves). A list or a
// show is spec (what was asked for, as Nova lists a mapping as soon as the API made it) with
// the device the backend gave; an attach answers once the backend has attached, with the
// device Nova would name, and a failure is taken back and answered with Nova's error.

func (h *handler) listVolumeAttachments(rq *request) error {
	if err := validateQuery(schemas.VolumeAttachmentQuery(rq.version), rq.r); err != nil {
		return err
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, v := range srv.Spec.Volumes {
		view, ok, err := h.attachmentView(rq, srv, v)
		if err != nil {
			return err
		}
		if ok {
			out = append(out, view)
		}
	}
	q := rq.r.URL.Query()
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		out = out[min(off, len(out)):]
	}
	if lim, err := strconv.Atoi(q.Get("limit")); err == nil && lim >= 0 {
		out = out[:min(lim, maxListLimit, len(out))]
	}
	return rq.json(http.StatusOK, map[string]any{"volumeAttachments": out})
}

func (h *handler) showVolumeAttachment(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	v, ok, err := h.attachedEntry(rq.ctx, srv, rq.param(1))
	if err != nil {
		return err
	}
	if ok {
		if view, found, err := h.attachmentView(rq, srv, v); err != nil || found {
			if err != nil {
				return err
			}
			return rq.json(http.StatusOK, map[string]any{"volumeAttachment": view})
		}
	}
	return notFound("Instance %s is not attached to volume %s", srv.UID, rq.param(1))
}

// attachedEntry is the entry of srv's spec.volumes for the volume id.
func (h *handler) attachedEntry(ctx context.Context, srv *computev1.Server, id string) (computev1.VolumeAttachment, bool, error) {
	pvc, ok, err := h.volume(ctx, srv.Namespace, id)
	if err != nil || !ok {
		return computev1.VolumeAttachment{}, false, err
	}
	for _, v := range srv.Spec.Volumes {
		if v.ClaimName == pvc.Name {
			return v, true, nil
		}
	}
	return computev1.VolumeAttachment{}, false, nil
}

// attachmentView is an entry as Nova shows a volume attachment; false when its claim is
// gone and nothing is attached.
func (h *handler) attachmentView(rq *request, srv *computev1.Server, v computev1.VolumeAttachment) (map[string]any, bool, error) {
	volumeID, device := "", v.Device
	if att, ok := rules.VolumeAttached(srv, v.ClaimName); ok {
		volumeID, device = att.VolumeID, att.Device
	} else {
		pvc := &corev1.PersistentVolumeClaim{}
		if err := h.live.Get(rq.ctx, client.ObjectKey{Namespace: srv.Namespace, Name: v.ClaimName}, pvc); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, false, nil
			}
			return nil, false, err
		}
		volumeID = string(pvc.UID)
	}
	return attachmentBody(rq, srv, volumeID, device, v), true, nil
}

// attachmentBody is Nova's volumeAttachment: the device only when there is one, tag from
// 2.70, delete_on_termination from 2.79.
func attachmentBody(rq *request, srv *computev1.Server, volumeID, device string, v computev1.VolumeAttachment) map[string]any {
	out := map[string]any{"id": volumeID, "volumeId": volumeID, "serverId": string(srv.UID)}
	if device != "" {
		out["device"] = device
	}
	if rq.version.AtLeast(70) {
		out["tag"] = nil
		if v.Tag != "" {
			out["tag"] = v.Tag
		}
	}
	if rq.version.AtLeast(79) {
		out["delete_on_termination"] = v.DeleteOnTermination
	}
	return out
}

// volume finds a claim of the tenant by its uid, as the API server has it now (a claim is
// often made just before it is attached, and attachments are rare).
func (h *handler) volume(ctx context.Context, ns, id string) (*corev1.PersistentVolumeClaim, bool, error) {
	if !js.IsUUIDLike(id) {
		return nil, false, nil
	}
	uid := js.CanonicalUUID(id)
	var list corev1.PersistentVolumeClaimList
	if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, false, err
	}
	for i := range list.Items {
		if string(list.Items[i].UID) == uid {
			return &list.Items[i], true, nil
		}
	}
	return nil, false, nil
}

// volumeHolders are the tenant's servers, other than except, that have the claim or ask for
// it.
func (h *handler) volumeHolders(ctx context.Context, ns, claim, except string) ([]string, error) {
	var list computev1.ServerList
	if err := h.cache.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []string
	for i := range list.Items {
		if s := &list.Items[i]; string(s.UID) != except && rules.WantsVolume(s, claim) {
			out = append(out, string(s.UID))
		}
	}
	slices.Sort(out)
	return out, nil
}

// volumeAttachment is the body of a volume attachment's create or update (swap), read once
// schema has found it valid: the update's schema allows only volumeId.
type volumeAttachment struct {
	VolumeID string  `json:"volumeId"`
	Device   *string `json:"device"`
	Tag      *string `json:"tag"`
	DOT      any     `json:"delete_on_termination"`
}

func (rq *request) volumeAttachmentBody(schema *js.Schema) (*volumeAttachment, error) {
	if _, berr := rq.validBody(schema); berr != nil {
		return nil, berr
	}
	var body struct {
		VA volumeAttachment `json:"volumeAttachment"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return nil, badRequest(msgMalformed)
	}
	return &body.VA, nil
}

func (h *handler) createVolumeAttachment(rq *request) error {
	va, err := rq.volumeAttachmentBody(schemas.VolumeAttachmentCreate(rq.version))
	if err != nil {
		return err
	}
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.checkShelvedVolume(srv, "attach_volume"); err != nil {
		return err
	}
	id := va.VolumeID
	pvc, ok, err := h.volume(rq.ctx, srv.Namespace, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Volume %s could not be found.", id)
	}
	entry := computev1.VolumeAttachment{ClaimName: pvc.Name, DeleteOnTermination: truthy(va.DOT)}
	if va.Tag != nil {
		entry.Tag = *va.Tag
	}
	want := ""
	if va.Device != nil {
		want = *va.Device
	}
	holders, err := h.volumeHolders(rq.ctx, srv.Namespace, pvc.Name, "")
	if err != nil {
		return err
	}
	if len(holders) > 0 {
		return badRequest("Invalid volume: volume %s is already attached to instances: %s", pvc.UID, strings.Join(holders, " "))
	}
	written, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		if err := rq.checkDevice(lifecycle.ActionAttachVolume, s); err != nil {
			return err
		}
		if entry.Tag != "" && s.Status.VMState == string(lifecycle.VMShelvedOffloaded) {
			return badRequest("Tagged volume attachment is not supported for shelved-offloaded instances.")
		}
		if rules.WantsVolume(s, pvc.Name) {
			return badRequest("Invalid volume: volume %s is already attached to instances: %s", pvc.UID, s.UID)
		}
		dev, err := rules.AssignDevice(s, pvc.Name, want)
		var de *rules.DeviceError
		if errors.As(err, &de) {
			if de.InUse {
				return conflict("%s", de.Message)
			}
			return badRequest("%s", de.Message)
		}
		entry.Device = dev
		s.Spec.Volumes = append(s.Spec.Volumes, entry)
		return nil
	})
	if err != nil {
		return err
	}
	done, err := h.awaitDevice(rq.ctx, written, func(s *computev1.Server) bool {
		_, ok := rules.VolumeAttached(s, pvc.Name)
		return ok
	}, lifecycle.ActionAttachVolume, pvc.Name)
	if f, failed := err.(*deviceFailure); failed {
		h.editVolumes(rq, written, func(vs []computev1.VolumeAttachment) []computev1.VolumeAttachment {
			return slices.DeleteFunc(vs, func(v computev1.VolumeAttachment) bool { return v.ClaimName == pvc.Name })
		})
		return f.apiError(written)
	}
	if err != nil {
		return err
	}
	device := entry.Device
	if att, ok := rules.VolumeAttached(done, pvc.Name); ok {
		device = att.Device
	}
	return rq.json(http.StatusOK, map[string]any{"volumeAttachment": attachmentBody(rq, done, string(pvc.UID), device, entry)})
}

func (h *handler) deleteVolumeAttachment(rq *request) error {
	srv, err := h.server(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.checkShelvedVolume(srv, "detach_volume"); err != nil {
		return err
	}
	id := rq.param(1)
	pvc, ok, err := h.volume(rq.ctx, srv.Namespace, id)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Volume %s could not be found.", id)
	}
	var removed *computev1.VolumeAttachment
	written, err := h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		i := slices.IndexFunc(s.Spec.Volumes, func(v computev1.VolumeAttachment) bool { return v.ClaimName == pvc.Name })
		if i < 0 {
			return notFound("Instance %s is not attached to volume %s", s.UID, id)
		}
		if err := rq.checkDevice(lifecycle.ActionDetachVolume, s); err != nil {
			return err
		}
		v := s.Spec.Volumes[i]
		removed = &v
		s.Spec.Volumes = slices.Delete(s.Spec.Volumes, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = h.awaitDevice(rq.ctx, written, func(s *computev1.Server) bool {
		_, ok := rules.VolumeAttached(s, pvc.Name)
		return !ok
	}, lifecycle.ActionDetachVolume, pvc.Name)
	if f, failed := err.(*deviceFailure); failed {
		// The volume is still attached: spec says so again.
		h.editVolumes(rq, written, func(vs []computev1.VolumeAttachment) []computev1.VolumeAttachment { return append(vs, *removed) })
		return f.apiError(written)
	}
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// editVolumes takes back a change of spec.volumes the backend could not carry out.
func (h *handler) editVolumes(rq *request, srv *computev1.Server, edit func([]computev1.VolumeAttachment) []computev1.VolumeAttachment) {
	_, _ = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
		s.Spec.Volumes = edit(s.Spec.Volumes)
		return nil
	})
}

// checkShelvedVolume is Nova's check before 2.20: no volume attach or detach on a shelved
// server.
func (rq *request) checkShelvedVolume(srv *computev1.Server, novaName string) error {
	vm := lifecycle.VMState(srv.Status.VMState)
	if (vm == lifecycle.VMShelved || vm == lifecycle.VMShelvedOffloaded) && !rq.version.AtLeast(20) {
		return conflict("Cannot '%s' instance %s while it is in vm_state %s", novaName, srv.UID, vm)
	}
	return nil
}
