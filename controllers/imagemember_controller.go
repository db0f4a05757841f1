package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// ImageMemberReconciler deletes a tenant's answer to a shared image once it answers nothing:
// the image is gone, or its owner removed the tenant from its members. As in Glance, a
// membership removed and added again starts pending, and no answer outlives its image.
// The owner cannot delete the answer itself (it is the member's object), so the manager does.
type ImageMemberReconciler struct {
	client.Client
	// APIReader confirms past the cache that the membership is gone before the answer is
	// deleted: a membership added a moment ago may not be cached yet.
	APIReader client.Reader
}

// indexImageMemberName finds the answers to an image: ImageMembers by name (the image's id).
const indexImageMemberName = ".metadata.name"

// +kubebuilder:rbac:groups=compute.kova.dev,resources=imagemembers,verbs=get;list;watch;delete

// Reconcile handles one ImageMember.
func (r *ImageMemberReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	answer := &computev1.ImageMember{}
	if err := r.Get(ctx, req.NamespacedName, answer); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !answer.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	for _, reader := range []client.Reader{r.Client, r.APIReader} {
		answers, err := r.answersSomething(ctx, reader, answer)
		if err != nil || answers {
			return reconcile.Result{}, err
		}
	}
	uid := answer.UID
	if err := r.Delete(ctx, answer, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("Deleted an answer to an image no longer shared with its tenant", "image", answer.Name)
	return reconcile.Result{}, nil
}

// answersSomething says whether answer's image, as reader has it, still lists its tenant.
func (r *ImageMemberReconciler) answersSomething(ctx context.Context, reader client.Reader, answer *computev1.ImageMember) (bool, error) {
	var images computev1.ImageList
	if err := reader.List(ctx, &images, client.InNamespace(answer.Spec.ImageNamespace)); err != nil {
		return false, err
	}
	for i := range images.Items {
		img := &images.Items[i]
		if string(img.UID) == answer.Name {
			return img.DeletionTimestamp.IsZero() && memberOf(img, answer.Namespace), nil
		}
	}
	return false, nil
}

// memberOf says whether tenant is among img's members (whatever its visibility: Glance
// keeps the members of an image made private, and they count again if it is shared again).
func memberOf(img *computev1.Image, tenant string) bool {
	for _, m := range img.Spec.Members {
		if m.Project == tenant {
			return true
		}
	}
	return false
}

// SetupWithManager registers the controller; an Image wakes the answers to it.
func (r *ImageMemberReconciler) SetupWithManager(mgr manager.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &computev1.ImageMember{}, indexImageMemberName,
		func(o client.Object) []string { return []string{o.GetName()} }); err != nil {
		return err
	}
	return builder.ControllerManagedBy(mgr).
		For(&computev1.ImageMember{}).
		Watches(&computev1.Image{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var list computev1.ImageMemberList
			if err := r.List(ctx, &list, client.MatchingFields{indexImageMemberName: string(o.GetUID())}); err != nil {
				log.FromContext(ctx).Error(err, "Failed to list the answers to an image", "image", o.GetName())
				return nil
			}
			var out []reconcile.Request
			for i := range list.Items {
				if rules.AnswerFor(&list.Items[i], o.(*computev1.Image)) {
					out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
				}
			}
			return out
		})).
		Complete(r)
}
