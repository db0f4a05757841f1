package novaapi

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// GET /flavors, /flavors/detail and /flavors/{id}, from the cluster's Flavors: the id is
// the Flavor's name. Flavors are managed with kubectl; this API does not create them.

func (h *handler) listFlavors(rq *request) error       { return h.flavors(rq, false) }
func (h *handler) listFlavorsDetail(rq *request) error { return h.flavors(rq, true) }

func (h *handler) flavors(rq *request, detail bool) error {
	if err := validateQuery(schemas.FlavorQuery(rq.version), rq.r); err != nil {
		return err
	}
	q := queryObject(rq.r)
	// Everyone sees the public flavors; admins may choose with is_public ("none" for all).
	public := func(f *computev1.Flavor) bool { return f.Spec.IsPublic }
	if _, ok := q.Get("is_public"); ok {
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if admin {
			v := lastValue(q, "is_public")
			if strings.EqualFold(v, "none") {
				public = func(*computev1.Flavor) bool { return true }
			} else {
				want, err := boolFromString(v)
				if err != nil {
					return badRequest("Invalid is_public filter [%s]", v)
				}
				public = func(f *computev1.Flavor) bool { return f.Spec.IsPublic == want }
			}
		}
	}
	var minRAM, minDisk int64 = -1, -1
	if _, ok := q.Get("minRam"); ok {
		n, err := strconv.ParseInt(lastValue(q, "minRam"), 10, 64)
		if err != nil {
			return badRequest("Invalid minRam filter [%s]", lastValue(q, "minRam"))
		}
		minRAM = n
	}
	if _, ok := q.Get("minDisk"); ok {
		n, err := strconv.ParseInt(lastValue(q, "minDisk"), 10, 64)
		if err != nil {
			return badRequest("Invalid minDisk filter [%s]", lastValue(q, "minDisk"))
		}
		minDisk = n
	}
	var list computev1.FlavorList
	if err := h.cache.List(rq.ctx, &list); err != nil {
		return err
	}
	var flavors []*computev1.Flavor
	for i := range list.Items {
		f := &list.Items[i]
		if public(f) && (minRAM < 0 || f.Spec.RAM >= minRAM) && (minDisk < 0 || f.Spec.Disk >= minDisk) {
			flavors = append(flavors, f)
		}
	}
	sortKey := orDefault(lastValue(q, "sort_key"), "flavorid")
	desc := lastValue(q, "sort_dir") == "desc"
	sort.SliceStable(flavors, func(i, j int) bool {
		a, b := flavorSortValue(flavors[i], sortKey), flavorSortValue(flavors[j], sortKey)
		if a == b {
			a, b = flavors[i].Name, flavors[j].Name
		}
		if desc {
			return a > b
		}
		return a < b
	})
	flavors, limit, err := page(q, flavors, func(f *computev1.Flavor) string { return f.Name }, markerNotFound)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(flavors))
	for _, f := range flavors {
		if detail {
			out = append(out, rq.flavorView(f))
		} else {
			out = append(out, views.NewFlavorSummary(f, rq.version, rq.links("flavors", f.Name)))
		}
	}
	body := rq.listBody("flavors", "flavors", detail, out, limit, lastID(flavors, func(f *computev1.Flavor) string { return f.Name }))
	return rq.json(http.StatusOK, body)
}

// flavorSortValue is a flavor's value for a sort key, as text that sorts like the value.
func flavorSortValue(f *computev1.Flavor, key string) string {
	num := func(n int64) string { return strconv.FormatInt(1<<40+n, 10) }
	switch key {
	case "name":
		return f.DisplayName()
	case "memory_mb":
		return num(f.Spec.RAM)
	case "root_gb":
		return num(f.Spec.Disk)
	case "ephemeral_gb":
		return num(f.Spec.Ephemeral)
	case "swap":
		return num(f.Spec.Swap)
	case "vcpus":
		return num(int64(f.Spec.VCPUs))
	case "description":
		return f.Spec.Description
	case "is_public":
		return strconv.FormatBool(f.Spec.IsPublic)
	case "created_at", "id":
		return sortableTime(f.CreationTimestamp.Time)
	}
	return f.Name
}

func (h *handler) showFlavor(rq *request) error {
	f, err := h.flavorOfPath(rq)
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"flavor": rq.flavorView(f)})
}

// flavorOfPath is the flavor the path names ({id} first), or Nova's 404.
func (h *handler) flavorOfPath(rq *request) (*computev1.Flavor, error) {
	f, err := h.usableFlavor(rq, rq.param(0))
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, notFound("Flavor %s could not be found.", rq.param(0))
	}
	return f, nil
}

// showExtraSpecs is GET /flavors/{id}/os-extra_specs: the openstack CLI reads it for every
// flavor whose list entry carries no extra specs.
func (h *handler) showExtraSpecs(rq *request) error {
	f, err := h.flavorOfPath(rq)
	if err != nil {
		return err
	}
	specs := map[string]string{}
	for k, v := range f.Spec.ExtraSpecs {
		specs[k] = v
	}
	return rq.json(http.StatusOK, map[string]any{"extra_specs": specs})
}

// flavorView is Nova's detailed flavor (views/flavor.go).
func (rq *request) flavorView(f *computev1.Flavor) *views.Flavor {
	return views.NewFlavor(f, rq.version, rq.links("flavors", f.Name), defaultRxTx)
}
