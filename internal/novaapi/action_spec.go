package novaapi

import (
	"net/http"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// The actions that are a change of Server.spec with parameters: lock, unlock, rescue,
// unshelve, resize. (The ones without, stop, pause, ..., are specAction in actions.go.)

// lock locks a server; locking a locked one changes nothing (not even the reason), as in
// Nova.
func (h *handler) lock(rq *request, srv *computev1.Server, arg any) error {
	reason := ""
	if obj, ok := arg.(*js.Object); ok && rq.version.AtLeast(73) {
		if v, ok := obj.Get("locked_reason"); ok {
			reason, _ = v.(string)
		}
	}
	_, err := h.changeSpec(rq, srv, lifecycle.ActionLock, "lock", func(s *computev1.Server) error {
		if s.Spec.Locked {
			return nil
		}
		s.Spec.Locked, s.Spec.LockedReason = true, reason
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

func (h *handler) unlock(rq *request, srv *computev1.Server, _ any) error {
	_, err := h.changeSpec(rq, srv, lifecycle.ActionUnlock, "unlock", func(s *computev1.Server) error {
		s.Spec.Locked, s.Spec.LockedReason = false, ""
		return nil
	})
	if err != nil {
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
	if _, err := h.changeSpec(rq, srv, lifecycle.ActionRescue, "rescue", func(s *computev1.Server) error {
		rules.ApplyAction(&s.Spec, lifecycle.ActionRescue)
		return nil
	}); err != nil {
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
	if _, err := h.changeSpec(rq, srv, lifecycle.ActionUnshelve, "unshelve", func(s *computev1.Server) error {
		rules.ApplyAction(&s.Spec, lifecycle.ActionUnshelve)
		return nil
	}); err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}

// resize takes flavorRef as given (Nova's resize does not strip a URL).
func (h *handler) resize(rq *request, srv *computev1.Server, arg any) error {
	obj := arg.(*js.Object)
	ref, _ := obj.Get("flavorRef")
	flavorID := js.Str(ref)
	_, err := h.changeSpec(rq, srv, lifecycle.ActionResize, "resize", func(s *computev1.Server) error {
		f, err := h.usableFlavor(rq, flavorID)
		if err != nil {
			return err
		}
		if f == nil {
			return badRequest("Flavor %s could not be found.", flavorID)
		}
		if f.Name == serverFlavorID(s) {
			return badRequest("When resizing, instances must change flavor!")
		}
		if img, err := h.imageByName(rq.ctx, s.Namespace, s.Spec.ImageRef); err != nil {
			return err
		} else if img != nil {
			if err := fitsImage(f, img); err != nil {
				return err
			}
		}
		s.Spec.FlavorRef = f.Name
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusAccepted, nil)
}
