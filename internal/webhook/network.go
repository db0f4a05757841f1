package webhook

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-network,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=networks,verbs=create;delete,versions=v1alpha1,name=vnetwork.compute.kova.dev,admissionReviewVersions=v1

// NetworkWebhook keeps kubectl to the rules the REST API keeps for networks: a CIDR
// within bounds (rules.CheckNetworkCIDR) at create, and no delete while a server holds an
// address on the network or is being built with it (rules.ServersUsingNetwork).
type NetworkWebhook struct {
	// Reader lists servers past the cache, so that a server made a moment ago counts.
	Reader          client.Reader
	PublicNamespace string
}

var networkGK = computev1.GroupVersion.WithKind("Network").GroupKind()
var networkGR = computev1.GroupVersion.WithResource("networks").GroupResource()

// ValidateCreate checks the CIDR.
func (w *NetworkWebhook) ValidateCreate(_ context.Context, n *computev1.Network) (admission.Warnings, error) {
	if err := rules.CheckNetworkCIDR(n.Spec.CIDR); err != nil {
		return nil, apierrors.NewInvalid(networkGK, n.Name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "cidr"), n.Spec.CIDR, err.Error())})
	}
	return nil, nil
}

// ValidateUpdate allows updates: the CIDR is immutable (the CRD says so), the label free.
func (w *NetworkWebhook) ValidateUpdate(context.Context, *computev1.Network, *computev1.Network) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete refuses to delete a network in use, with Nova's conflict message.
func (w *NetworkWebhook) ValidateDelete(ctx context.Context, n *computev1.Network) (admission.Warnings, error) {
	users, err := refs.NetworkUsers(ctx, w.Reader, n, w.PublicNamespace)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("listing the servers of network %s: %w", n.Name, err))
	}
	if len(users) > 0 {
		return nil, apierrors.NewConflict(networkGR, n.Name, &refs.NetworkInUseError{ID: n.NovaID(), Servers: users})
	}
	return nil, nil
}
