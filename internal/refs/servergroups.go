package refs

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// ServerGroup gets the group a server names (spec.serverGroup), in its namespace.
func ServerGroup(ctx context.Context, c client.Reader, ns, name string) (*computev1.ServerGroup, error) {
	g := &computev1.ServerGroup{}
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, g)
	if apierrors.IsNotFound(err) {
		return nil, &NotFoundError{rules.ServerGroupNotFound(name)}
	}
	return g, err
}

// ServerGroupMembers are the servers of ns that name the group (metadata.name group) as
// c has them; c answers the field selector rules.FieldServerGroup (the API server, or a
// cache indexed on it).
func ServerGroupMembers(ctx context.Context, c client.Reader, ns, group string) ([]computev1.Server, error) {
	var list computev1.ServerList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{rules.FieldServerGroup: group}); err != nil {
		return nil, err
	}
	return list.Items, nil
}
