package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// SharedNetwork is a network every tenant may use, made by the manager in the public
// namespace if it is not there: Rackspace's public network and ServiceNet exist in every
// account from the start, with fixed ids. Its object name is its id (Network.NovaID).
type SharedNetwork struct {
	ID, Label, CIDR string
	// External makes it a floating IP pool.
	External bool
}

// RackspaceSharedNetworks are Rackspace's two: public (id 0...0), also the floating IP pool,
// and ServiceNet, labelled "private" (id 1...1). The CIDRs are Kova's choice, within rules.CheckNetworkCIDR's bounds.
func RackspaceSharedNetworks() []SharedNetwork {
	return []SharedNetwork{
		{ID: rules.PublicNetworkID, Label: "public", CIDR: "172.16.0.0/16", External: true},
		{ID: rules.ServiceNetNetworkID, Label: "private", CIDR: "10.176.0.0/16"},
	}
}

// addSharedNetworks makes the shared networks once the manager leads. An existing one is
// left as it is, whatever its spec: an operator may have changed its label, or deleted it
// on purpose after its servers were gone and made another (the next start makes it again).
func addSharedNetworks(mgr manager.Manager, publicNamespace string, nets []SharedNetwork) error {
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		c := mgr.GetClient()
		// Until the public namespace exists (an install applies it after the manager may
		// have started) a create fails: try again rather than stop the manager.
		_ = wait.PollUntilContextCancel(ctx, sharedNetworkRetry, true, func(ctx context.Context) (bool, error) {
			for _, sn := range nets {
				if err := createSharedNetwork(ctx, c, publicNamespace, sn); err != nil {
					log.FromContext(ctx).Error(err, "Could not create shared network; trying again", "id", sn.ID)
					return false, nil
				}
			}
			return true, nil
		})
		return nil
	}))
}

// sharedNetworkRetry is how long the manager waits before it tries a failed create again.
const sharedNetworkRetry = time.Second

func createSharedNetwork(ctx context.Context, c client.Client, publicNamespace string, sn SharedNetwork) error {
	n := &computev1.Network{
		ObjectMeta: metav1.ObjectMeta{Namespace: publicNamespace, Name: sn.ID},
		Spec:       computev1.NetworkSpec{Label: sn.Label, CIDR: sn.CIDR, Shared: true, External: sn.External},
	}
	err := c.Create(ctx, n)
	switch {
	case err == nil:
		log.FromContext(ctx).Info("Created shared network", "id", sn.ID, "label", sn.Label, "cidr", sn.CIDR)
	case apierrors.IsAlreadyExists(err):
	default:
		return fmt.Errorf("creating shared network %s (%s): %w", sn.Label, sn.ID, err)
	}
	return nil
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=networks,verbs=create
