package testenv

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// OpenQuotas makes the test control planes' QuotaClass "default": InstanceQuota servers a
// tenant, cores and RAM unlimited, so suites that boot fleets are not held to Nova's
// defaults (10 instances, 20 cores, 50 GiB); the quota tests set a tenant's own Quota.
func OpenQuotas(ctx context.Context, c client.Client) error {
	instances, unlimited := int64(InstanceQuota), int64(-1)
	qc := &computev1.QuotaClass{ObjectMeta: metav1.ObjectMeta{Name: computev1.QuotaName},
		Spec: computev1.QuotaLimits{Instances: &instances, Cores: &unlimited, RAM: &unlimited}}
	if err := c.Create(ctx, qc); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}
