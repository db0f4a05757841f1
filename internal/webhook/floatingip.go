package webhook

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
	"github.com/kova-dev/kova/internal/refs"
)

// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-floatingip,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=floatingips,verbs=create;update,versions=v1alpha1,name=vfloatingip.compute.kova.dev,admissionReviewVersions=v1

// +kubebuilder:rbac:groups=compute.kova.dev,resources=floatingips,verbs=get;list;watch

// FloatingIPWebhook keeps kubectl to the rules the REST API keeps for floating IPs: a pool
// that exists, the tenant's floating_ips quota, and an association (spec.server) only to a server of the
// tenant, by a user whom RBAC lets make the addFloatingIp or removeFloatingIp call on it
// (POST /servers/{id}/action, an admin's).
type FloatingIPWebhook struct {
	Reader          client.Reader
	PublicNamespace string
	Admins          *Admins
	// Quotas holds the tenant's floating_ips quota against concurrent allocations.
	Quotas *QuotaGate
}

var floatingIPGK = computev1.GroupVersion.WithKind("FloatingIP").GroupKind()
var floatingIPGR = computev1.GroupVersion.WithResource("floatingips").GroupResource()

var (
	callAddFloatingIP    = novaCall{http.MethodPost, pathServerAction, "os_compute_api:os-floating-ips:add"}
	callRemoveFloatingIP = novaCall{http.MethodPost, pathServerAction, "os_compute_api:os-floating-ips:remove"}
)

// ValidateCreate checks the pool, the bound and the association.
func (w *FloatingIPWebhook) ValidateCreate(ctx context.Context, f *computev1.FloatingIP) (admission.Warnings, error) {
	if _, err := refs.FloatingIPPool(ctx, w.Reader, w.PublicNamespace, f.Spec.Pool); refs.IsNotFound(err) {
		return nil, apierrors.NewInvalid(floatingIPGK, f.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "pool"), f.Spec.Pool, "Floating IP pool not found.")})
	} else if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	if err := w.checkAssociation(ctx, nil, f); err != nil {
		return nil, err
	}
	// Last: the tenant's floating_ips quota, reserved before the address is stored.
	return nil, w.Quotas.reserveObjects(ctx, f.Namespace, floatingIPGR, f.Name, quota.ObjectClaim{
		UID: string(f.UID), Generation: f.Generation, Counts: map[string]int64{quota.FloatingIPs: 1}})
}

// ValidateUpdate checks a change of association.
func (w *FloatingIPWebhook) ValidateUpdate(ctx context.Context, old, f *computev1.FloatingIP) (admission.Warnings, error) {
	return nil, w.checkAssociation(ctx, old, f)
}

// ValidateDelete allows deletes (RBAC decides who may).
func (w *FloatingIPWebhook) ValidateDelete(context.Context, *computev1.FloatingIP) (admission.Warnings, error) {
	return nil, nil
}

// checkAssociation refuses a server that is not there and a change of association the
// user may not make through REST. old is nil at create.
func (w *FloatingIPWebhook) checkAssociation(ctx context.Context, old, f *computev1.FloatingIP) error {
	var was computev1.FloatingIPSpec
	if old != nil {
		was = old.Spec
	}
	if was.Server == f.Spec.Server && was.FixedIP == f.Spec.FixedIP {
		return nil
	}
	user := userOf(ctx)
	if was.Server != "" && was.Server != f.Spec.Server {
		ok, err := w.Admins.MayCall(ctx, f.Namespace, was.Server, user, callRemoveFloatingIP)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		if !ok {
			return apierrors.NewForbidden(floatingIPGR, f.Name, fmt.Errorf("spec.server: %s", policyMessage(callRemoveFloatingIP.rule)))
		}
	}
	if f.Spec.Server == "" {
		return nil
	}
	p := field.NewPath("spec", "server")
	srv := &computev1.Server{}
	err := w.Reader.Get(ctx, client.ObjectKey{Namespace: f.Namespace, Name: f.Spec.Server}, srv)
	if apierrors.IsNotFound(err) {
		return apierrors.NewInvalid(floatingIPGK, f.Name, field.ErrorList{field.Invalid(p, f.Spec.Server, "Instance "+f.Spec.Server+" could not be found.")})
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	ok, err := w.Admins.MayCall(ctx, f.Namespace, srv.Name, user, callAddFloatingIP)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if !ok {
		return apierrors.NewForbidden(floatingIPGR, f.Name, fmt.Errorf("spec.server: %s", policyMessage(callAddFloatingIP.rule)))
	}
	if f.Spec.FixedIP == "" || len(srv.Status.Addresses) == 0 {
		return nil
	}
	for _, a := range srv.Status.Addresses {
		if a.Type != "floating" && a.Address == f.Spec.FixedIP {
			return nil
		}
	}
	return apierrors.NewInvalid(floatingIPGK, f.Name, field.ErrorList{field.Invalid(field.NewPath("spec", "fixedIP"), f.Spec.FixedIP,
		"Specified fixed address not assigned to instance")})
}
