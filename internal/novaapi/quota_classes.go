package novaapi

import (
	"encoding/json"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/quota"
)

// os-quota-class-sets: the defaults every tenant starts from, Nova's quota class
// "default", which is the QuotaClass "default". Only the cloud operator reads or changes
// them, as Nova's policy has it. Nova keeps any class name but uses only "default"; Kova
// keeps only that one, and shows Nova's own defaults for any other name.

// quotaClassNames are the quotas a class shows at v: the server groups' from 2.50, where
// the network proxies' go; the injected files' go at 2.57.
func quotaClassNames(v microversion.Version) []string { return visibleQuotas(v, 50, 50) }

// quotaClassSettable are the quotas an update may set at v (the show's, and before 2.50
// the server groups' too, which Nova takes without showing).
func quotaClassSettable(v microversion.Version) []string {
	if v.AtLeast(50) {
		return quotaClassNames(v)
	}
	return quotaSetOrder
}

func (h *handler) showQuotaClass(rq *request) error {
	if err := rq.adminOnly("os_compute_api:os-quota-class-sets:show"); err != nil {
		return err
	}
	var spec *computev1.QuotaLimits
	if rq.param(0) == computev1.QuotaName {
		var err error
		if spec, err = quota.Class(rq.ctx, h.live); err != nil {
			return err
		}
	}
	return rq.json(http.StatusOK, map[string]any{"quota_class_set": quotaClassView(quota.Effective(spec, nil), rq.param(0), rq.version)})
}

func (h *handler) updateQuotaClass(rq *request) error {
	if err := rq.adminOnly("os_compute_api:os-quota-class-sets:update"); err != nil {
		return err
	}
	if _, err := rq.validBody(schemas.QuotaClassUpdate(quotaClassSettable(rq.version))); err != nil {
		return err
	}
	if rq.param(0) != computev1.QuotaName {
		return badRequest("Kova uses only the quota class %s.", computev1.QuotaName)
	}
	var body struct {
		QuotaClassSet map[string]json.RawMessage `json:"quota_class_set"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	edit := func(spec *computev1.QuotaLimits) { setQuotas(spec, body.QuotaClassSet) }
	w := h.writer(rq.ctx)
	written := false
	for attempt := 0; attempt < 10 && !written; attempt++ {
		qc := &computev1.QuotaClass{}
		err := h.live.Get(rq.ctx, client.ObjectKey{Name: computev1.QuotaName}, qc)
		switch {
		case apierrors.IsNotFound(err):
			qc = &computev1.QuotaClass{ObjectMeta: metav1.ObjectMeta{Name: computev1.QuotaName}}
			edit(&qc.Spec)
			err = w.Create(rq.ctx, qc)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
		case err == nil:
			edit(&qc.Spec)
			err = w.Update(rq.ctx, qc)
			if apierrors.IsConflict(err) {
				continue
			}
		}
		if err != nil {
			return err
		}
		written = true
	}
	if !written {
		return newError(http.StatusConflict, "The quota class is being changed by others; try again.")
	}
	spec, err := quota.Class(rq.ctx, h.live)
	if err != nil {
		return err
	}
	view := quotaClassView(quota.Effective(spec, nil), rq.param(0), rq.version)
	delete(view, "id") // Nova's update answers without it
	return rq.json(http.StatusOK, map[string]any{"quota_class_set": view})
}

func quotaClassView(l quota.Limits, class string, v microversion.Version) map[string]any {
	out := map[string]any{"id": class}
	for _, n := range quotaClassNames(v) {
		out[n] = l[n]
	}
	return out
}
