package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/refs"
)

// +kubebuilder:rbac:groups=compute.kova.dev,resources=servergroups,verbs=get;list;watch

// serverGroup is the group a booting server is placed with, nil for none. The driver
// places the members one at a time under its lock, from where it put the others, so this
// only names the group and its policy. A group deleted before the boot is placed (Nova
// lets a group with members go) places the server as if it had none, as Nova's scheduler
// does for an instance whose group is gone.
func (r *ServerReconciler) serverGroup(ctx context.Context, srv *computev1.Server) (*compute.Group, error) {
	if srv.Spec.ServerGroup == "" {
		return nil, nil
	}
	var g *computev1.ServerGroup
	err := refs.Resolve(r.Client, r.APIReader, func(c client.Reader) (err error) {
		g, err = refs.ServerGroup(ctx, c, srv.Namespace, srv.Spec.ServerGroup)
		return err
	})
	if refs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &compute.Group{ID: string(g.UID), Policy: g.Spec.Policy, MaxPerHost: g.MaxServerPerHost()}, nil
}
