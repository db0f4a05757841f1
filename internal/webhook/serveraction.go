package webhook

import (
	"context"
	"errors"

	"github.com/google/uuid"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-serveraction,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=serveractions,verbs=create,versions=v1alpha1,name=mserveraction.compute.kova.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-serveraction,mutating=false,failurePolicy=fail,sideEffects=NoneOnDryRun,groups=compute.kova.dev,resources=serveractions,verbs=create,versions=v1alpha1,name=vserveraction.compute.kova.dev,admissionReviewVersions=v1

// ServerActionWebhook records who asked for an action, and whether they may act on a
// locked server, from the request itself: nothing the requester writes is trusted for it.
type ServerActionWebhook struct {
	// Client reads the server an action is for, and the keypair a rebuild names, from the
	// cache, Reader past it.
	Client client.Reader
	Reader client.Reader
	Admins *Admins
	// Quotas reserves a resize's growth; nil enforces no quota.
	Quotas *QuotaGate
}

// Default stamps the requester, Nova's request id, the lock override and the server's uid.
// A record Kova writes (LabelFromSpec, refused to anyone else) keeps the requester and uid
// it names: the delete the webhook records was asked by the deleting user, of a server
// that is going.
func (w *ServerActionWebhook) Default(ctx context.Context, sa *computev1.ServerAction) error {
	user := userOf(ctx)
	if sa.Annotations == nil {
		sa.Annotations = map[string]string{}
	}
	if !rules.IsRecord(sa) || sa.Spec.RequestedBy == "" {
		sa.Spec.RequestedBy = user.Username
		sa.Annotations[computev1.AnnotationUserID] = user.Username
	}
	if !rules.IsRecord(sa) || sa.Labels[computev1.LabelServerUID] == "" {
		if err := w.stampServerUID(ctx, sa); err != nil {
			return err
		}
	}
	if sa.Spec.RequestID == "" {
		sa.Spec.RequestID = "req-" + uuid.NewString()
	}
	admin, err := w.Admins.IsAdmin(ctx, user)
	if err != nil {
		return err
	}
	sa.Spec.OverrideLock = admin
	if sa.Spec.Action == computev1.ActionReboot && sa.Spec.Reboot == nil {
		sa.Spec.Reboot = &computev1.RebootParams{Type: "SOFT"}
	}
	return nil
}

// stampServerUID labels sa with the uid of the server it names (LabelServerUID), whatever
// the request said, or with none when there is no such server (the action then fails). The
// cache is read first; a server it lacks or has as deleting may be new, so that is read
// again past it.
func (w *ServerActionWebhook) stampServerUID(ctx context.Context, sa *computev1.ServerAction) error {
	delete(sa.Labels, computev1.LabelServerUID)
	key := client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ServerName}
	srv := &computev1.Server{}
	err := w.Client.Get(ctx, key, srv)
	if apierrors.IsNotFound(err) || err == nil && !srv.DeletionTimestamp.IsZero() {
		err = w.Reader.Get(ctx, key, srv)
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if sa.Labels == nil {
		sa.Labels = map[string]string{}
	}
	sa.Labels[computev1.LabelServerUID] = string(srv.UID)
	return nil
}

// ValidateCreate refuses parameters that belong to another action, and a record of a
// spec-driven action (LabelFromSpec) from anyone who may not write a server's status: the
// controller writes those, and a user-made one would be a forged entry of the audit trail.
func (w *ServerActionWebhook) ValidateCreate(ctx context.Context, sa *computev1.ServerAction) (admission.Warnings, error) {
	if _, ok := sa.Labels[computev1.LabelFromSpec]; ok {
		ok, err := w.Admins.allowed(ctx, userOf(ctx), &authorizationv1.ResourceAttributes{Namespace: sa.Namespace,
			Verb: "update", Group: computev1.GroupVersion.Group, Resource: "servers", Subresource: "status"})
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		if !ok {
			return nil, apierrors.NewForbidden(computev1.GroupVersion.WithResource("serveractions").GroupResource(), sa.Name,
				errors.New("metadata.labels["+computev1.LabelFromSpec+"]: set by Kova only: it marks the record of an action a spec change started"))
		}
	} else if sa.Spec.Action == computev1.ActionDelete {
		return nil, apierrors.NewInvalid(computev1.GroupVersion.WithKind("ServerAction").GroupKind(), sa.Name, field.ErrorList{
			field.Forbidden(field.NewPath("spec", "action"), "delete is recorded by Kova as a server is deleted; to delete a server, delete the Server")})
	} else if err := w.checkCall(ctx, sa); err != nil {
		return nil, err
	}
	spec := field.NewPath("spec")
	var errs field.ErrorList
	check := func(set bool, name string, action computev1.ActionType) {
		if set && sa.Spec.Action != action {
			errs = append(errs, field.Forbidden(spec.Child(name), "only for action "+string(action)))
		}
	}
	check(sa.Spec.Reboot != nil, "reboot", computev1.ActionReboot)
	check(sa.Spec.Rebuild != nil, "rebuild", computev1.ActionRebuild)
	check(sa.Spec.Resize != nil, "resize", computev1.ActionResize)
	check(sa.Spec.Lock != nil, "lock", computev1.ActionLock)
	check(sa.Spec.CreateImage != nil, "createImage", computev1.ActionCreateImage)
	check(sa.Spec.ChangePassword != nil, "changePassword", computev1.ActionChangePassword)
	if sa.Spec.Action == computev1.ActionRebuild {
		errs = append(errs, w.checkRebuild(ctx, sa)...)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(computev1.GroupVersion.WithKind("ServerAction").GroupKind(), sa.Name, errs)
	}
	return nil, w.Quotas.reserveResizeAction(ctx, sa)
}

// checkCall refuses a ServerAction from a user whom RBAC does not let make the REST call
// it stands for (POST /servers/{id}/action), in Nova's 403 words: creating the record is
// making the call, so a role that may create serveractions gains no action by it.
func (w *ServerActionWebhook) checkCall(ctx context.Context, sa *computev1.ServerAction) error {
	c := actionCall(rules.LifecycleAction(sa))
	ok, err := w.Admins.MayCall(ctx, sa.Namespace, sa.Spec.ServerName, userOf(ctx), c)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if !ok {
		return apierrors.NewForbidden(computev1.GroupVersion.WithResource("serveractions").GroupResource(), sa.Name,
			errors.New("spec.action: "+policyMessage(c.rule)))
	}
	return nil
}

// ValidateUpdate has nothing to add to the CEL rule that makes the spec immutable.
func (w *ServerActionWebhook) ValidateUpdate(context.Context, *computev1.ServerAction, *computev1.ServerAction) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete allows deletes.
func (w *ServerActionWebhook) ValidateDelete(context.Context, *computev1.ServerAction) (admission.Warnings, error) {
	return nil, nil
}

func equalSpec(a, b computev1.ServerSpec) bool { return equality.Semantic.DeepEqual(a, b) }
