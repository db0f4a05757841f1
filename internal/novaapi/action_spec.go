package novaapi

import (
	"net/http"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// The actions that Server.spec can also ask for, with parameters: lock, unlock, rescue,
// unshelve, resize. (The ones without, stop, pause, ..., are oneShot in actions.go.) A
// REST call is an imperative request: each is a ServerAction, and none writes the spec,
// which belongs to whoever declares the server (kubectl, a GitOps tool).

// lock locks a server; locking a locked one changes nothing (not even the reason) and
// records nothing, as in Nova for the server's own project.
func (h *handler) lock(rq *request, srv *computev1.Server, arg any) error {
	reason := ""
	if obj, ok := arg.(*js.Object); ok && rq.version.AtLeast(73) {
		if v, ok := obj.Get("locked_reason"); ok {
			reason, _ = v.(string)
		}
	}
	if err := h.checkAction(rq, srv, lifecycle.ActionLock); err != nil {
		return err
	}
	if !srv.Status.Locked {
		if _, err := h.createAction(rq, srv, actionName(srv, computev1.ActionLock), computev1.ActionLock, func(s *computev1.ServerActionSpec) {
			s.Lock = &computev1.LockParams{Reason: reason}
		}); err != nil {
			return err
		}
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) unlock(rq *request, srv *computev1.Server, _ any) error {
	if _, err := h.startAction(rq, srv, computev1.ActionUnlock, nil); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// rescue answers 200 with the rescue password, which is handed back and kept nowhere.
func (h *handler) rescue(rq *request, srv *computev1.Server, arg any) error {
	password := generatePassword()
	if obj, ok := arg.(*js.Object); ok {
		if v, ok := obj.Get("adminPass"); ok {
			password, _ = v.(string)
		}
		if _, ok := obj.Get("rescue_image_ref"); ok {
			return notImplemented("Rescue from another image (rescue_image_ref)")
		}
	}
	if _, err := h.startAction(rq, srv, computev1.ActionRescue, nil); err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"adminPass": password})
}

func (h *handler) unshelve(rq *request, srv *computev1.Server, arg any) error {
	if obj, ok := arg.(*js.Object); ok && rq.version.AtLeast(77) {
		if v, ok := obj.Get("availability_zone"); ok {
			az, _ := v.(string)
			if az != orDefault(srv.Spec.AvailabilityZone, defaultAZ) {
				return badRequest("The requested availability zone is not available")
			}
		}
	}
	if _, err := h.startAction(rq, srv, computev1.ActionUnshelve, nil); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// resize takes flavorRef as given (Nova's resize does not strip a URL).
func (h *handler) resize(rq *request, srv *computev1.Server, arg any) error {
	obj := arg.(*js.Object)
	ref, _ := obj.Get("flavorRef")
	flavorID := js.Str(ref)
	if err := h.checkAction(rq, srv, lifecycle.ActionResize); err != nil {
		return err
	}
	f, err := h.usableFlavor(rq, flavorID)
	if err != nil {
		return err
	}
	if f == nil {
		return badRequest("Flavor %s could not be found.", flavorID)
	}
	if f.Name == serverFlavorID(srv) {
		return badRequest("When resizing, instances must change flavor!")
	}
	if img, err := h.imageByName(rq.ctx, srv.Namespace, serverImageName(srv)); err != nil {
		return err
	} else if img != nil {
		if err := fitsImage(f, img); err != nil {
			return err
		}
	}
	// A resize partitions the resized disk as OS-DCF:diskConfig says, MANUAL if it says
	// nothing: Nova sets the instance's auto_disk_config (to "given or False") as it
	// accepts the resize, and shows it from then on (checked on the peer).
	diskConfig := "MANUAL"
	if dc, ok := obj.Get("OS-DCF:diskConfig"); ok {
		diskConfig = js.Str(dc)
	}
	if diskConfig != annotationOr(srv, annDiskConfig, "MANUAL") {
		if srv, err = h.patchServer(rq.ctx, srv, func(s *computev1.Server) error {
			setAnnotation(s, annDiskConfig, diskConfig)
			return nil
		}); err != nil {
			return err
		}
	}
	if _, err := h.createAction(rq, srv, actionName(srv, computev1.ActionResize), computev1.ActionResize, func(s *computev1.ServerActionSpec) {
		s.Resize = &computev1.ResizeParams{FlavorRef: f.Name}
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}
