// Package refs resolves the names a Server refers to (flavor, image, keypair, networks)
// the same way for the admission webhook and the controller, and words a missing one the
// way Nova does.
package refs

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// NotFoundError is a reference to something that does not exist, in Nova's words.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

// InvalidError is a reference that exists but cannot be used, in Nova's words.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }

// IsNotFound says whether err is a NotFoundError.
func IsNotFound(err error) bool {
	_, ok := err.(*NotFoundError)
	return ok
}

// Flavor gets a flavor by name (its Nova id).
func Flavor(ctx context.Context, c client.Reader, name string) (*computev1.Flavor, error) {
	f := &computev1.Flavor{}
	if err := c.Get(ctx, client.ObjectKey{Name: name}, f); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{fmt.Sprintf("Flavor %s could not be found.", name)}
		}
		return nil, err
	}
	return f, nil
}

// Image finds an image in the tenant's namespace, then among the public images.
func Image(ctx context.Context, c client.Reader, ns, publicNS, name string) (*computev1.Image, error) {
	for _, n := range []string{ns, publicNS} {
		if n == "" {
			continue
		}
		img := &computev1.Image{}
		err := c.Get(ctx, client.ObjectKey{Namespace: n, Name: name}, img)
		if err == nil && (n == ns || img.Spec.Visibility == "public") {
			return img, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, &NotFoundError{fmt.Sprintf("Image %s could not be found.", name)}
}

// Network finds a network in the tenant's namespace, then among the shared ones.
func Network(ctx context.Context, c client.Reader, ns, publicNS, name string) (*computev1.Network, error) {
	for _, n := range []string{ns, publicNS} {
		if n == "" {
			continue
		}
		net := &computev1.Network{}
		err := c.Get(ctx, client.ObjectKey{Namespace: n, Name: name}, net)
		if err == nil && (n == ns || net.Spec.Shared) {
			return net, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, &NotFoundError{fmt.Sprintf("Network %s could not be found.", name)}
}

// Keypair gets a keypair of the tenant.
func Keypair(ctx context.Context, c client.Reader, ns, name string) (*computev1.Keypair, error) {
	kp := &computev1.Keypair{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, kp); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{"Invalid key_name provided."}
		}
		return nil, err
	}
	return kp, nil
}

// FitsImage checks a flavor against an image's minimums, with Nova's messages.
func FitsImage(f *computev1.Flavor, img *computev1.Image) error {
	if img.Spec.MinRAM > f.Spec.RAM {
		return &InvalidError{"Flavor's memory is too small for requested image."}
	}
	if f.Spec.Disk > 0 && img.Spec.MinDisk > f.Spec.Disk {
		return &InvalidError{fmt.Sprintf("Flavor's disk is smaller than the minimum size specified in image metadata. "+
			"Flavor disk is %d bytes, minimum size is %d bytes.", f.Spec.Disk<<30, img.Spec.MinDisk<<30)}
	}
	return nil
}
