package webhook

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get

// checkVolumes refuses an edit of spec.volumes no attach call could make: a claim that is
// not there, a device name Nova would refuse or that two volumes share, another device for
// a volume that stays. old is nil at create.
func (v *ServerValidator) checkVolumes(ctx context.Context, old, srv *computev1.Server) error {
	was := map[string]computev1.VolumeAttachment{}
	if old != nil {
		for _, vol := range old.Spec.Volumes {
			was[vol.ClaimName] = vol
		}
	}
	var errs field.ErrorList
	devices := map[string]string{}
	for i, vol := range srv.Spec.Volumes {
		p := field.NewPath("spec", "volumes").Index(i)
		if prev, ok := was[vol.ClaimName]; ok {
			if prev.Device != vol.Device {
				errs = append(errs, field.Forbidden(p.Child("device"),
					"the device of an attached volume does not change: detach the volume, then attach it again"))
			}
			continue
		}
		if vol.Device != "" {
			if _, err := rules.AssignDevice(&computev1.Server{}, vol.ClaimName, vol.Device); err != nil {
				errs = append(errs, field.Invalid(p.Child("device"), vol.Device, err.Error()))
			} else if other, taken := devices[vol.Device]; taken {
				errs = append(errs, field.Invalid(p.Child("device"), vol.Device, "The supplied device path ("+vol.Device+") is in use by volume "+other+"."))
			}
			devices[vol.Device] = vol.ClaimName
		}
		// Past the cache: claims are few, rarely attached, and often made just before.
		var reader client.Reader = v.Client
		if v.Reader != nil {
			reader = v.Reader
		}
		err := reader.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: vol.ClaimName}, &corev1.PersistentVolumeClaim{})
		switch {
		case apierrors.IsNotFound(err):
			errs = append(errs, field.Invalid(p.Child("claimName"), vol.ClaimName, "Volume "+vol.ClaimName+" could not be found."))
		case err != nil:
			errs = append(errs, field.InternalError(p.Child("claimName"), err))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	return nil
}
