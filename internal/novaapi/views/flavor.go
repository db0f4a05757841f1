package views

import (
	"encoding/json"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

// Flavor is Nova's detailed flavor (views/flavors.py), in GET /flavors/detail and
// GET /flavors/{id}.
//
//	2.1+   rxtx_factor is a float (1.0 by default); swap is "" when zero
//	2.55+  description (null when none)
//	2.61+  extra_specs
//	2.75+  swap is 0 when zero
type Flavor struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	RAM         int64              `json:"ram"`
	Disk        int64              `json:"disk"`
	Swap        any                `json:"swap"` // an int, or "" when zero before 2.75
	Ephemeral   int64              `json:"OS-FLV-EXT-DATA:ephemeral"`
	Disabled    bool               `json:"OS-FLV-DISABLED:disabled"`
	VCPUs       int32              `json:"vcpus"`
	IsPublic    bool               `json:"os-flavor-access:is_public"`
	RxTxFactor  json.Number        `json:"rxtx_factor"`
	Links       []Link             `json:"links"`
	Description Opt[string]        `json:"description,omitzero"`
	ExtraSpecs  *map[string]string `json:"extra_specs,omitempty"`
}

// FlavorSummary is a flavor in GET /flavors: id, name, links, and from 2.55 its
// description.
type FlavorSummary struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Links       []Link      `json:"links"`
	Description Opt[string] `json:"description,omitzero"`
}

// EmbeddedFlavor is a server's flavor from 2.47: the flavor's contents rather than a
// reference ({} when the flavor is gone).
type EmbeddedFlavor struct {
	VCPUs        int32             `json:"vcpus"`
	RAM          int64             `json:"ram"`
	Disk         int64             `json:"disk"`
	Ephemeral    int64             `json:"ephemeral"`
	Swap         int64             `json:"swap"`
	OriginalName string            `json:"original_name"`
	ExtraSpecs   map[string]string `json:"extra_specs"`
}

// NewEmbeddedFlavor is f as a server at 2.47+ shows it; nil f (the flavor is gone) is {}.
func NewEmbeddedFlavor(f *computev1.Flavor) any {
	if f == nil {
		return struct{}{}
	}
	return EmbeddedFlavor{
		VCPUs:        f.Spec.VCPUs,
		RAM:          f.Spec.RAM,
		Disk:         f.Spec.Disk,
		Ephemeral:    f.Spec.Ephemeral,
		Swap:         f.Spec.Swap,
		OriginalName: f.DisplayName(),
		ExtraSpecs:   extraSpecs(f),
	}
}

func extraSpecs(f *computev1.Flavor) map[string]string {
	if f.Spec.ExtraSpecs == nil {
		return map[string]string{}
	}
	return f.Spec.ExtraSpecs
}

// NewFlavor is f's detailed view at v, with its links; defaultRxTx is Nova's default
// rxtx_factor.
func NewFlavor(f *computev1.Flavor, v microversion.Version, links []Link, defaultRxTx string) *Flavor {
	rxtx := json.Number(defaultRxTx)
	if f.Spec.RxTxFactor != "" {
		if _, err := strconv.ParseFloat(f.Spec.RxTxFactor, 64); err == nil {
			rxtx = json.Number(f.Spec.RxTxFactor)
			if !strings.ContainsAny(f.Spec.RxTxFactor, ".eE") {
				rxtx = json.Number(f.Spec.RxTxFactor + ".0")
			}
		}
	}
	var swap any = f.Spec.Swap
	if f.Spec.Swap == 0 && !v.AtLeast(75) {
		swap = ""
	}
	out := &Flavor{
		ID:         f.Name,
		Name:       f.DisplayName(),
		RAM:        f.Spec.RAM,
		Disk:       f.Spec.Disk,
		Swap:       swap,
		Ephemeral:  f.Spec.Ephemeral,
		VCPUs:      f.Spec.VCPUs,
		IsPublic:   f.Spec.IsPublic,
		RxTxFactor: rxtx,
		Links:      links,
	}
	if v.AtLeast(55) {
		out.Description = OrNull(f.Spec.Description)
	}
	if v.AtLeast(61) {
		extra := extraSpecs(f)
		out.ExtraSpecs = &extra
	}
	return out
}

// NewFlavorSummary is f in GET /flavors at v.
func NewFlavorSummary(f *computev1.Flavor, v microversion.Version, links []Link) FlavorSummary {
	out := FlavorSummary{ID: f.Name, Name: f.DisplayName(), Links: links}
	if v.AtLeast(55) {
		out.Description = OrNull(f.Spec.Description)
	}
	return out
}
