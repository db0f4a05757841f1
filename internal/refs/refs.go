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
	"github.com/kova-dev/kova/internal/rules"
)

// NotFoundError is a reference to something that does not exist, in Nova's words.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

// InvalidError is a reference that exists but cannot be used, in Nova's words; the rules
// that find one (rules.FitsImage) say it in the same type.
type InvalidError = rules.InvalidError

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

// Image finds the image a server of tenant ns names (Server.spec.imageRef): a plain name in
// the tenant's namespace, then among the public images; namespace/name another tenant's
// image, which the tenant may boot from only if it is community, or shared with the tenant
// and accepted (rules.ImageUsable).
func Image(ctx context.Context, c client.Reader, ns, publicNS, name string) (*computev1.Image, error) {
	if owner, short := rules.SplitImageRef(name); owner != "" {
		return othersImage(ctx, c, ns, owner, short, name)
	}
	img, err := FirstVisible(ctx, c, rules.VisibleNamespaces(ns, publicNS), name,
		func(img *computev1.Image) bool { return rules.ImageVisible(img, ns) })
	if err != nil || img != nil {
		return img, err
	}
	return nil, &NotFoundError{fmt.Sprintf("Image %s could not be found.", name)}
}

// FirstVisible is the object named name, read through c, in the first of namespaces whose
// object of that name passes visible; nil when none does.
func FirstVisible[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, c client.Reader, namespaces []string, name string, visible func(PT) bool) (PT, error) {
	for _, n := range namespaces {
		obj := PT(new(T))
		err := c.Get(ctx, client.ObjectKey{Namespace: n, Name: name}, obj)
		if err == nil && visible(obj) {
			return obj, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, nil
}

// othersImage is Image for a namespace/name reference.
func othersImage(ctx context.Context, c client.Reader, ns, owner, name, ref string) (*computev1.Image, error) {
	notFound := &NotFoundError{fmt.Sprintf("Image %s could not be found.", ref)}
	img := &computev1.Image{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: owner, Name: name}, img); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound
		}
		return nil, err
	}
	if !rules.ImageVisible(img, ns) {
		return nil, notFound
	}
	answer := &computev1.ImageMember{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: string(img.UID)}, answer); apierrors.IsNotFound(err) {
		answer = nil
	} else if err != nil {
		return nil, err
	}
	if !rules.ImageUsable(img, ns, answer) {
		return nil, &InvalidError{Message: (&rules.ImageNotAcceptedError{ID: string(img.UID), Tenant: ns}).Error()}
	}
	return img, nil
}

// Network finds a network in the tenant's namespace, then among the shared ones.
func Network(ctx context.Context, c client.Reader, ns, publicNS, name string) (*computev1.Network, error) {
	net, err := FirstVisible(ctx, c, rules.VisibleNamespaces(ns, publicNS), name,
		func(net *computev1.Network) bool { return rules.NetworkVisible(net, ns) })
	if err != nil || net != nil {
		return net, err
	}
	return nil, &NotFoundError{fmt.Sprintf("Network %s could not be found.", name)}
}

// Keypair finds the keypair a server boots with: the one its user knows as name (Nova
// keypairs are per user, so the same name may be another user's). An empty user (a server
// made without the admission webhook, which records its user) matches any owner. Should two
// keypairs of one user share a name (two creates that raced past the webhook's check), the
// older is the keypair, as rules.UserKeypairs decides for every reader.
func Keypair(ctx context.Context, c client.Reader, ns, user, name string) (*computev1.Keypair, error) {
	var list computev1.KeypairList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	if kp := rules.UserKeypair(list.Items, user, name); kp != nil {
		return kp, nil
	}
	// The REST API records the keypair's object name, which is no Nova name of the user's.
	for i := range list.Items {
		if kp := &list.Items[i]; kp.Name == name && rules.KeypairOwnedBy(kp, user) && kp.DeletionTimestamp.IsZero() {
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

// Resolve runs lookup against cache and, if it finds nothing, once more against live (the
// API server), so a name made just before is found: `kubectl apply -f` of a Network and a
// Server that uses it, in one go, must not fail because an informer is a moment behind.
// live may be nil (no fallback).
func Resolve(cache, live client.Reader, lookup func(client.Reader) error) error {
	err := lookup(cache)
	if IsNotFound(err) && live != nil {
		err = lookup(live)
	}
	return err
}
