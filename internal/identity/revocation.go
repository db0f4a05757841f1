package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Revocations are TokenRevocation objects in the API server, named after the audit id,
// read past the cache on every use of a token: a token revoked through one nova-api
// replica is refused by every other from the next request on, with no window.

// revocationName is the object name of an audit id's revocation (audit ids are base64,
// object names lowercase).
func revocationName(auditID string) string {
	sum := sha256.Sum256([]byte(auditID))
	return "token-" + hex.EncodeToString(sum[:20])
}

// revoked reports whether any of the audit ids (a token's own and its parent's, so that
// revoking a token also revokes those made from it) was revoked.
func (s *Service) revoked(ctx context.Context, auditIDs []string) (bool, error) {
	for _, id := range auditIDs {
		err := s.cfg.Live.Get(ctx, client.ObjectKey{Namespace: s.cfg.Namespace, Name: revocationName(id)}, &computev1.TokenRevocation{})
		if err == nil {
			return true, nil
		}
		if !apierrors.IsNotFound(err) {
			return false, err
		}
	}
	return false, nil
}

// revoke records t's revocation; revoking it twice is no error.
func (s *Service) revoke(ctx context.Context, t *Token) error {
	err := s.cfg.Client.Create(ctx, &computev1.TokenRevocation{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.cfg.Namespace, Name: revocationName(t.AuditID)},
		Spec:       computev1.TokenRevocationSpec{AuditID: t.AuditID, ExpiresAt: metav1.NewTime(t.ExpiresAt)},
	})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// sweepInterval is how often expired revocations are deleted, at most maxSwept at a time.
const (
	sweepInterval = 10 * time.Minute
	maxSwept      = 5000
)

// SweepRevocations deletes, every sweepInterval until ctx ends, the revocations of tokens
// that have expired (an expired token is refused anyway), so that they do not pile up.
// Every replica sweeps; deleting what another replica deleted is no error.
func (s *Service) SweepRevocations(ctx context.Context) {
	ticker := time.NewTicker(sweepInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		var list computev1.TokenRevocationList
		if err := s.cfg.Live.List(ctx, &list, client.InNamespace(s.cfg.Namespace), client.Limit(maxSwept)); err != nil {
			klog.ErrorS(err, "Failed to list token revocations")
			continue
		}
		// Keep each record a token lifetime past the token's expiry, for allow_expired.
		cutoff := s.cfg.Now().Add(-allowExpiredWindow)
		for i := range list.Items {
			if list.Items[i].Spec.ExpiresAt.Time.Before(cutoff) {
				if err := s.cfg.Client.Delete(ctx, &list.Items[i]); ignoreNotFound(err) != nil {
					klog.ErrorS(err, "Failed to delete an expired token revocation", "name", list.Items[i].Name)
				}
			}
		}
	}
}
