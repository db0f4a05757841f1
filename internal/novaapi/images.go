package novaapi

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// Nova's image proxy (GET /images, /images/detail, /images/{id}, DELETE /images/{id}),
// until 2.35, over the tenant's Images and the public ones. Glance's statuses become
// Nova's: queued and saving are SAVING, killed is ERROR.

var imageStatuses = map[computev1.ImagePhase]string{
	computev1.ImageActive:  "ACTIVE",
	computev1.ImageQueued:  "SAVING",
	computev1.ImageSaving:  "SAVING",
	computev1.ImageDeleted: "DELETED",
	computev1.ImageKilled:  "ERROR",
}

var imageProgress = map[computev1.ImagePhase]int{
	computev1.ImageQueued: 25,
	computev1.ImageSaving: 50,
	computev1.ImageActive: 100,
}

// imagePhase is an image's Glance status; one nobody has looked at yet is queued.
func imagePhase(img *computev1.Image) computev1.ImagePhase {
	if img.Status.Status == "" {
		return computev1.ImageQueued
	}
	return img.Status.Status
}

func imageUpdated(img *computev1.Image) time.Time {
	if img.Status.Updated != nil && img.Status.Updated.After(img.CreationTimestamp.Time) {
		return img.Status.Updated.Time
	}
	return img.CreationTimestamp.Time
}

func (rq *request) imageView(img *computev1.Image) map[string]any {
	id := string(img.UID)
	phase := imagePhase(img)
	status, ok := imageStatuses[phase]
	if !ok {
		status = "UNKNOWN"
	}
	var size any
	if img.Status.SizeBytes > 0 || phase == computev1.ImageActive {
		size = img.Status.SizeBytes
	}
	v := map[string]any{
		"id":                   id,
		"name":                 img.DisplayName(),
		"minRam":               img.Spec.MinRAM,
		"minDisk":              img.Spec.MinDisk,
		"metadata":             metadataOf(img.Spec.Metadata),
		"created":              isoTime(img.CreationTimestamp.Time),
		"updated":              isoTime(imageUpdated(img)),
		"status":               status,
		"progress":             imageProgress[phase],
		"OS-EXT-IMG-SIZE:size": size,
		"links":                rq.imageLinks(id),
	}
	if uuid := img.Spec.Metadata["instance_uuid"]; uuid != "" {
		v["server"] = map[string]any{"id": uuid, "links": rq.links("servers", uuid)}
	}
	if adc, ok := img.Spec.Metadata["auto_disk_config"]; ok {
		if b, _ := boolFromString(adc); b {
			v["OS-DCF:diskConfig"] = "AUTO"
		} else {
			v["OS-DCF:diskConfig"] = "MANUAL"
		}
	}
	return v
}

func (h *handler) listImages(rq *request) error       { return h.images(rq, false) }
func (h *handler) listImagesDetail(rq *request) error { return h.images(rq, true) }

func (h *handler) images(rq *request, detail bool) error {
	q := queryObject(rq.r)
	var imgs []*computev1.Image
	for _, ns := range rules.VisibleNamespaces(rq.caller.Tenant, h.public) {
		var list computev1.ImageList
		if err := h.live.List(rq.ctx, &list, client.InNamespace(ns)); err != nil { // past the cache (consistency.go)
			return err
		}
		for i := range list.Items {
			img := &list.Items[i]
			if rules.ImageVisible(img, rq.caller.Tenant) {
				imgs = append(imgs, img)
			}
		}
	}
	filters, err := imageFilters(q)
	if err != nil {
		return err
	}
	var kept []*computev1.Image
	for _, img := range imgs {
		ok := true
		for _, f := range filters {
			if !f(img) {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, img)
		}
	}
	// Glance's order: newest first.
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i].CreationTimestamp.Time, kept[j].CreationTimestamp.Time
		if !a.Equal(b) {
			return a.After(b)
		}
		return kept[i].UID > kept[j].UID
	})
	kept, limit, err := page(q, kept, func(i *computev1.Image) string { return string(i.UID) }, markerNotFound)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(kept))
	for _, img := range kept {
		if detail {
			out = append(out, rq.imageView(img))
		} else {
			id := string(img.UID)
			out = append(out, map[string]any{"id": id, "name": img.DisplayName(), "links": rq.imageLinks(id)})
		}
	}
	body := rq.listBody("images", "images", detail, out, limit, lastID(kept, func(i *computev1.Image) string { return string(i.UID) }))
	return rq.json(http.StatusOK, body)
}

// imageFilters are the filters Nova passes to Glance: name, status, changes-since,
// server, type, minRam, minDisk and property-<key>.
func imageFilters(q *js.Object) ([]func(*computev1.Image) bool, error) {
	var fs []func(*computev1.Image) bool
	for _, k := range q.Keys() {
		v := lastValue(q, k)
		switch {
		case k == "name":
			fs = append(fs, func(i *computev1.Image) bool { return i.DisplayName() == v })
		case k == "status":
			want := strings.ToLower(v)
			fs = append(fs, func(i *computev1.Image) bool { return string(imagePhase(i)) == want })
		case k == "changes-since":
			t, err := js.ParseISOTime(v)
			if err != nil {
				return nil, badRequest("Invalid input received: changes-since")
			}
			fs = append(fs, func(i *computev1.Image) bool { return !imageUpdated(i).Before(t) })
		case k == "server":
			id := v
			if at := strings.LastIndex(id, "/"); at >= 0 {
				id = id[at+1:]
			}
			fs = append(fs, func(i *computev1.Image) bool { return i.Spec.Metadata["instance_uuid"] == id })
		case k == "type":
			fs = append(fs, func(i *computev1.Image) bool { return i.Spec.Metadata["image_type"] == v })
		case k == "minRam", k == "minDisk":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, badRequest("Invalid input received: %s must be an integer", k)
			}
			ram := k == "minRam"
			fs = append(fs, func(i *computev1.Image) bool {
				if ram {
					return i.Spec.MinRAM >= n
				}
				return i.Spec.MinDisk >= n
			})
		case strings.HasPrefix(k, "property-"):
			key := strings.TrimPrefix(k, "property-")
			fs = append(fs, func(i *computev1.Image) bool { return i.Spec.Metadata[key] == v })
		}
	}
	return fs, nil
}

func (h *handler) showImage(rq *request) error {
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Image not found.")
	}
	return rq.json(http.StatusOK, map[string]any{"image": rq.imageView(img)})
}

// deleteImage deletes one of the tenant's images; a public image is not the tenant's to
// delete (Glance's 403).
func (h *handler) deleteImage(rq *request) error {
	img, ok, err := h.image(rq.ctx, rq.caller.Tenant, rq.param(0))
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Image not found.")
	}
	if img.Namespace != rq.caller.Tenant {
		return forbidden("You are not allowed to delete the image.")
	}
	uid := img.UID
	if err := h.writer(rq.ctx).Delete(rq.ctx, img, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}
