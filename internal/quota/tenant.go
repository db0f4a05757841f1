package quota

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// TenantLimits are the limits of tenant ns as r has them: its Quota over the QuotaClass
// "default" over Nova's defaults (a tenant with no Quota has the class's).
func TenantLimits(ctx context.Context, r client.Reader, ns string) (Limits, error) {
	class, err := Class(ctx, r)
	if err != nil {
		return nil, err
	}
	q := &computev1.Quota{}
	err = r.Get(ctx, client.ObjectKey{Namespace: ns, Name: computev1.QuotaName}, q)
	if apierrors.IsNotFound(err) {
		return Effective(class, nil), nil
	}
	if err != nil {
		return nil, err
	}
	return Effective(class, &q.Spec), nil
}

// Allows says whether a tenant holding used of a resource limited by l may hold one more.
func (l Limits) Allows(name string, used int) bool {
	limit := l[name]
	return limit < 0 || int64(used) < limit
}
