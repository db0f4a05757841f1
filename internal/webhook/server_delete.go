package webhook

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// recordDelete writes the record of a server's delete (rules.DeleteRecord) as the delete is
// admitted: only here is the deleting user known, whether the DELETE came through the REST
// shim or kubectl, and it is written before the DELETE answers, so a client that lists the
// server's actions next sees it. A delete whose record cannot be written is refused (the
// client retries), so no deleted server lacks one; a dry run, and a DELETE of a server
// already being deleted (the first one's record stands), write nothing. A namespace being
// deleted takes no new objects, and all its records go with it: its servers go unrecorded.
func (v *ServerValidator) recordDelete(ctx context.Context, srv *computev1.Server) error {
	if !srv.DeletionTimestamp.IsZero() {
		return nil
	}
	if req, err := admission.RequestFromContext(ctx); err == nil && req.DryRun != nil && *req.DryRun {
		return nil
	}
	user := userOf(ctx).Username
	err := v.Client.Create(ctx, rules.DeleteRecord(srv, user, rules.DeleteRequestID(srv, user)))
	switch {
	case err == nil, apierrors.IsAlreadyExists(err):
		return nil
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil
	default:
		return apierrors.NewInternalError(err)
	}
}
