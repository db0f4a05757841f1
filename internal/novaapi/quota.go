package novaapi

import (
	"context"
	"encoding/json"
	"math"
	"math/big"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// How many servers a create may make. Nova bounds min_count and max_count by the project's
// instance quota only (default 10, [quota] instances): when max_count does not fit but
// min_count does, it creates as many as fit; when min_count does not fit, it creates none
// and answers 403. Kova counts a tenant's servers from the cache, so two creates at once
// may together pass the quota (as Nova's own count can); what one request makes is always
// all or nothing. A per-request maximum bounds the work of one request even when the
// quota is large or unlimited.
const (
	defaultInstanceQuota        = 10  // Nova's [quota] instances
	defaultMaxServersPerRequest = 100 // Kova's own bound on one request
)

// instanceCount is min_count or max_count as Nova reads it: int() of a JSON integer or of a
// string of digits, with no upper bound. n saturates at math.MaxInt; text is the number
// as Nova prints it in its messages.
type instanceCount struct {
	n    int
	text string
}

func oneInstance() instanceCount { return instanceCount{n: 1, text: "1"} }

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
	c := instanceCount{n: math.MaxInt, text: v.String()}
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

// serversToCreate is how many servers a create of min_count to max_count makes, or Nova's
// 403 when not even min_count may be made.
func (h *handler) serversToCreate(ctx context.Context, tenant string, minCount, maxCount instanceCount) (int, error) {
	allowed := math.MaxInt
	if h.instanceQuota >= 0 {
		used, err := h.countServers(ctx, tenant)
		if err != nil {
			return 0, err
		}
		allowed = max(h.instanceQuota-used, 0)
		if minCount.n > allowed {
			return 0, forbidden("Quota exceeded for instances: Requested %s, but already used %d of %d instances",
				requested(minCount, maxCount), used, h.instanceQuota)
		}
	}
	if minCount.n > h.maxPerRequest {
		return 0, forbidden("Quota exceeded for instances: Requested %s, but at most %d can be created in one request",
			requested(minCount, maxCount), h.maxPerRequest)
	}
	return min(maxCount.n, allowed, h.maxPerRequest), nil
}

// countServers is how many servers a tenant has, from the cache, without copying them.
func (h *handler) countServers(ctx context.Context, tenant string) (int, error) {
	var list computev1.ServerList
	if err := h.cache.List(ctx, &list, client.InNamespace(tenant), client.UnsafeDisableDeepCopy); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// less compares two counts as numbers (text has no leading zeros).
func (c instanceCount) less(o instanceCount) bool {
	if len(c.text) != len(o.text) {
		return len(c.text) < len(o.text)
	}
	return c.text < o.text
}
