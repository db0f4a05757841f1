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

// Keypair finds the keypair a server boots with: the one its user knows as name (Nova
// keypairs are per user, so the same name may be another user's). An empty user (a server
// made without the admission webhook, which records its user) matches any owner. Should two
// keypairs of one user share a name (two creates that raced past the webhook's check), the
// older is the keypair, as UserKeypairs decides for every reader.
func Keypair(ctx context.Context, c client.Reader, ns, user, name string) (*computev1.Keypair, error) {
	var list computev1.KeypairList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	if kp := UserKeypair(list.Items, user, name); kp != nil {
		return kp, nil
	}
	// The REST API records the keypair's object name, which is no Nova name of the user's.
	for i := range list.Items {
		if kp := &list.Items[i]; kp.Name == name && KeypairOwnedBy(kp, user) && kp.DeletionTimestamp.IsZero() {
			return kp, nil
		}
	}
	return nil, &NotFoundError{"Invalid key_name provided."}
}

// ServerKeypair is the keypair a server boots with: spec.keyName among the keypairs of the
// user who created it.
func ServerKeypair(ctx context.Context, c client.Reader, srv *computev1.Server) (*computev1.Keypair, error) {
	return Keypair(ctx, c, srv.Namespace, srv.Annotations[computev1.AnnotationUserID], srv.Spec.KeyName)
}

// KeypairOwnedBy says whether a keypair is user's. One with no owner recorded (made without
// the admission webhook) belongs to the whole tenant; an empty user asks for any owner.
func KeypairOwnedBy(kp *computev1.Keypair, user string) bool {
	return user == "" || kp.Spec.UserID == "" || kp.Spec.UserID == user
}

// UserKeypairs are user's keypairs among a tenant's, one per Nova name: of two with one name
// (a race past the webhook's check) the older, then the first by object name, so that every
// reader (REST, the webhook, the controller) picks the same one and the other is never used.
// Keypairs being deleted are left out.
func UserKeypairs(kps []computev1.Keypair, user string) []*computev1.Keypair {
	byName := map[string]*computev1.Keypair{}
	var names []string
	for i := range kps {
		kp := &kps[i]
		if !KeypairOwnedBy(kp, user) || !kp.DeletionTimestamp.IsZero() {
			continue
		}
		n := kp.NovaName()
		cur, ok := byName[n]
		if !ok {
			names = append(names, n)
		}
		if !ok || olderKeypair(kp, cur) {
			byName[n] = kp
		}
	}
	out := make([]*computev1.Keypair, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

// UserKeypair is user's keypair named name (its Nova name), or nil.
func UserKeypair(kps []computev1.Keypair, user, name string) *computev1.Keypair {
	for _, kp := range UserKeypairs(kps, user) {
		if kp.NovaName() == name {
			return kp
		}
	}
	return nil
}

func olderKeypair(a, b *computev1.Keypair) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
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
