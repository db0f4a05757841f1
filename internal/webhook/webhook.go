// Package webhook holds Kova's admission webhooks. They refuse at `kubectl apply` what Nova
// would refuse at its API: unknown references, and spec changes the lifecycle does not
// allow from the server's current state (with Nova's own conflict message).
package webhook

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
)

// Setup registers every webhook with the manager; authz says how long they keep RBAC's
// answers.
func Setup(mgr manager.Manager, publicNamespace string, authz AuthorizationCache) error {
	c := mgr.GetClient()
	reader := mgr.GetAPIReader()
	rbac, err := newAuthorizer(mgr.GetConfig(), authz)
	if err != nil {
		return fmt.Errorf("asking RBAC: %w", err)
	}
	admins := &Admins{Authorizer: rbac}
	seen := &quota.Seen{}
	if err := watchCounted(context.Background(), mgr, seen); err != nil {
		return fmt.Errorf("watching what the quotas count: %w", err)
	}
	quotas := &QuotaGate{Reserver: &quota.Reserver{Client: c, Live: reader, Seen: seen}, Client: c, Reader: reader}
	sv := &ServerValidator{Client: c, Reader: reader, PublicNamespace: publicNamespace, Admins: admins, Quotas: quotas}
	mgr.GetWebhookServer().Register(serverMutatePath, serverMutating(admission.WithDefaulter(mgr.GetScheme(), ServerDefaulter{})))
	if err := ctrlWebhook(mgr, &computev1.Server{}).WithValidator(sv).Complete(); err != nil {
		return err
	}
	sa := &ServerActionWebhook{Client: c, Reader: reader, Admins: admins, Quotas: quotas}
	if err := ctrlWebhook(mgr, &computev1.ServerAction{}).WithDefaulter(sa).WithValidator(sa).Complete(); err != nil {
		return err
	}
	kp := &KeypairWebhook{Admins: admins, Reader: reader, Quotas: quotas}
	if err := ctrlWebhook(mgr, &computev1.Keypair{}).WithDefaulter(kp).WithValidator(kp).Complete(); err != nil {
		return err
	}
	nw := &NetworkWebhook{Reader: reader, PublicNamespace: publicNamespace}
	if err := ctrlWebhook(mgr, &computev1.Network{}).WithValidator(nw).Complete(); err != nil {
		return err
	}
	sg := &SecurityGroupWebhook{Reader: reader, Quotas: quotas}
	if err := ctrlWebhook(mgr, &computev1.SecurityGroup{}).WithValidator(sg).Complete(); err != nil {
		return err
	}
	sgrp := &ServerGroupWebhook{Quotas: quotas}
	if err := ctrlWebhook(mgr, &computev1.ServerGroup{}).WithDefaulter(sgrp).WithValidator(sgrp).Complete(); err != nil {
		return err
	}
	fw := &FloatingIPWebhook{Reader: reader, PublicNamespace: publicNamespace, Admins: admins, Quotas: quotas}
	if err := ctrlWebhook(mgr, &computev1.FloatingIP{}).WithValidator(fw).Complete(); err != nil {
		return err
	}
	if err := ctrlWebhook(mgr, &computev1.ImageMember{}).WithValidator(&ImageMemberValidator{Reader: reader}).Complete(); err != nil {
		return err
	}
	return ctrlWebhook(mgr, &computev1.Image{}).WithValidator(&ImageValidator{Reader: reader, PublicNamespace: publicNamespace}).Complete()
}

// Admins answers whether a user is Nova's admin, or may make a Nova call, by asking RBAC
// (authorization.go).
type Admins struct {
	Authorizer authorizer.Authorizer
}

// IsAdmin says whether user is Nova's admin: the cloud operator, not a tenant's kova-admin
// (Nova's project member with every right of the matrix). It asks a SubjectAccessReview for
// override-lock on servers with no namespace, which only a ClusterRoleBinding can allow, so a
// RoleBinding in a tenant never makes anyone the operator of the cloud.
func (a *Admins) IsAdmin(ctx context.Context, user authenticationv1.UserInfo) (bool, error) {
	ok, err := a.allowed(ctx, user, &authorizationv1.ResourceAttributes{
		Verb: computev1.VerbOverrideLock, Group: computev1.GroupVersion.Group, Resource: "servers",
	})
	if err != nil {
		return false, fmt.Errorf("checking whether %s may override locks: %w", user.Username, err)
	}
	return ok, nil
}

// MayActForOthers says whether user may act in another user's name: create a keypair for
// someone else. In Nova only its admin may (os_compute_api:os-keypairs:create with a
// user_id), so it is the cloud operator; this is the one place that decides it.
func (a *Admins) MayActForOthers(ctx context.Context, user authenticationv1.UserInfo) (bool, error) {
	return a.IsAdmin(ctx, user)
}

func userOf(ctx context.Context) authenticationv1.UserInfo {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return authenticationv1.UserInfo{}
	}
	return req.UserInfo
}
