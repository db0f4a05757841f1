package novaapi

import (
	"context"
	"encoding/json"
	"math"
	"math/big"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
)

// How many servers a create may make. Nova bounds min_count and max_count by the project's
// quotas on instances, cores and RAM (internal/quota): when max_count does not fit but
// min_count does, it creates as many as fit; when min_count does not fit, it creates none
// and answers 403. The shim counts from its cache to say so in Nova's words; the admission
// webhook then reserves each server's usage in the tenant's Quota before it is stored, which
// is what makes the quota hold under concurrent creates (a refusal there is the same 403).
// What one request makes is always all or nothing. A per-request maximum bounds the work of
// one request even when the quota is large or unlimited.
const defaultMaxServersPerRequest = 100 // Kova's own bound on one request

// instanceCount is min_count or max_count as Nova reads it: int() of a JSON integer or of a
// string of digits, with no upper bound. n saturates at math.MaxInt; text is the number
// as Nova prints it in its messages.
type instanceCount struct {
	n    int
	v    *big.Int
	text string
}

func oneInstance() instanceCount { return instanceCount{n: 1, v: big.NewInt(1), text: "1"} }

// parseCount reads a count the schema has let through (a JSON integer or a string of
// digits), or def when absent.
func parseCount(raw json.RawMessage, def instanceCount) instanceCount {
	s := string(raw)
	if len(raw) == 0 || s == "null" {
		return def
	}
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return def
		}
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 {
		return def
	}
	c := instanceCount{n: math.MaxInt, v: v, text: v.String()}
	if v.IsInt64() && v.Int64() < math.MaxInt {
		c.n = int(v.Int64())
	}
	return c
}

// requested is how Nova words a request of min to max servers: "3", or "3-5".
func requested(minCount, maxCount instanceCount) string {
	if minCount.text == maxCount.text {
		return minCount.text
	}
	return minCount.text + "-" + maxCount.text
}

// serversToCreate is how many servers of flavor a create of min_count to max_count makes,
// or Nova's 403 when not even min_count may be made.
func (h *handler) serversToCreate(ctx context.Context, tenant string, flavor *computev1.Flavor, minCount, maxCount instanceCount) (int, error) {
	if maxCount.n == 1 && h.maxPerRequest >= 1 {
		if fits, err := h.oneFits(ctx, tenant, flavor); err != nil {
			return 0, err
		} else if fits {
			return 1, nil
		}
	}
	n, err := h.fitQuota(ctx, h.cache, tenant, flavor, minCount, maxCount)
	if quota.IsExceeded(err) {
		// Refuse only on what the API server says: a quota raised or a server deleted a
		// moment ago counts.
		n, err = h.fitQuota(ctx, h.live, tenant, flavor, minCount, maxCount)
	}
	if err != nil {
		return 0, err
	}
	if minCount.n > h.maxPerRequest {
		return 0, forbidden("Quota exceeded for instances: Requested %s, but at most %d can be created in one request",
			requested(minCount, maxCount), h.maxPerRequest)
	}
	return min(n, h.maxPerRequest), nil
}

// oneFits says whether one more server of flavor fits the tenant's quotas on the usage
// admission reserves against: its Quota's status (what the controller last counted, plus
// the reservations admitted since), from the cache. The webhook reserves the server on the
// same figures as the API server has them, and refuses it there in the same words, so for a
// create of one server the shim's own count (quotaUsage, a pass over every server of the
// tenant: most of the shim's CPU for a boot in a tenant of thousands) would only say early
// what admission says anyway. When it does not fit, or the controller has not counted the
// tenant yet (a Quota made by the tenant's first reservation starts empty), the shim
// counts, as before, and refuses only on what the API server has.
func (h *handler) oneFits(ctx context.Context, tenant string, flavor *computev1.Flavor) (bool, error) {
	q, err := h.tenantQuota(ctx, h.cache, tenant)
	if err != nil || q.Status.ObservedTime == nil {
		return false, err
	}
	limits, err := limitsOf(ctx, h.cache, q)
	if err != nil {
		return false, err
	}
	one := big.NewInt(1)
	_, err = quota.Create(limits, q.Status.Used, quota.FlavorOf(flavor), one, one, "1")
	if quota.IsExceeded(err) {
		return false, nil
	}
	return err == nil, err
}

// fitQuota is quota.Create over the tenant's limits and usage as r sees them.
func (h *handler) fitQuota(ctx context.Context, r client.Reader, tenant string, flavor *computev1.Flavor, minCount, maxCount instanceCount) (int, error) {
	limits, err := h.quotaLimits(ctx, r, tenant)
	if err != nil {
		return 0, err
	}
	used, err := h.quotaUsage(ctx, r, tenant)
	if err != nil {
		return 0, err
	}
	n, err := quota.Create(limits, used, quota.FlavorOf(flavor), minCount.v, maxCount.v, requested(minCount, maxCount))
	if err != nil {
		return 0, err
	}
	return quota.Int(n), nil
}

// quotaLimits are a tenant's quotas: its Quota over the QuotaClass "default" over Nova's
// defaults.
func (h *handler) quotaLimits(ctx context.Context, r client.Reader, tenant string) (quota.Limits, error) {
	q, err := h.tenantQuota(ctx, r, tenant)
	if err != nil {
		return nil, err
	}
	return limitsOf(ctx, r, q)
}

// limitsOf are the quotas of q's tenant: q over the QuotaClass "default", as r has it, over
// Nova's defaults.
func limitsOf(ctx context.Context, r client.Reader, q *computev1.Quota) (quota.Limits, error) {
	class, err := quota.Class(ctx, r)
	if err != nil {
		return nil, err
	}
	return quota.Effective(class, &q.Spec), nil
}

// tenantQuota is the tenant's Quota, or an empty one when it has none.
func (h *handler) tenantQuota(ctx context.Context, r client.Reader, tenant string) (*computev1.Quota, error) {
	q := &computev1.Quota{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: tenant, Name: computev1.QuotaName}, q); err != nil {
		if apierrors.IsNotFound(err) {
			return &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: computev1.QuotaName}}, nil
		}
		return nil, err
	}
	return q, nil
}

// quotaUsage is what the tenant's servers hold, counted from r.
func (h *handler) quotaUsage(ctx context.Context, r client.Reader, tenant string) (quota.Usage, error) {
	var list computev1.ServerList
	if err := r.List(ctx, &list, client.InNamespace(tenant), client.UnsafeDisableDeepCopy); err != nil {
		return quota.Usage{}, err
	}
	flavors, err := quota.Flavors(ctx, h.cache, h.live, list.Items)
	if err != nil {
		return quota.Usage{}, err
	}
	return quota.Count(list.Items, flavors), nil
}

// less compares two counts as numbers (text has no leading zeros).
func (c instanceCount) less(o instanceCount) bool {
	if len(c.text) != len(o.text) {
		return len(c.text) < len(o.text)
	}
	return c.text < o.text
}
