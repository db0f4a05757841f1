package novaapi

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// Nova's image proxy (GET /images, /images/detail, /images/{id}, DELETE /images/{id}),
// until 2.35, over the tenant's Images and the public ones. Glance's statuses become
// Nova's: queued and saving are SAVING, killed is ERROR.

// imageView is Nova's detailed image (views/image.go).
func (rq *request) imageView(img *computev1.Image) *views.Image {
	in := views.ImageInput{
		Image:       img,
		Links:       rq.imageLinks(string(img.UID)),
		ServerLinks: func(id string) []link { return rq.links("servers", id) },
	}
	if adc, ok := img.Spec.Metadata["auto_disk_config"]; ok {
		in.HasAuto = true
		in.AutoDiskConfig, _ = boolFromString(adc)
	}
	return views.NewImage(in)
}

func (h *handler) listImages(rq *request) error       { return h.images(rq, false) }
func (h *handler) listImagesDetail(rq *request) error { return h.images(rq, true) }

func (h *handler) images(rq *request, detail bool) error {
	q := queryObject(rq.r)
	// What Nova's list asks of Glance: its default list, shared images once accepted.
	imgs, err := h.listedImages(rq.ctx, rq.caller.Tenant, "", "accepted")
	if err != nil {
		return err
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
			out = append(out, views.ImageSummary{ID: id, Name: img.DisplayName(), Links: rq.imageLinks(id)})
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
			fs = append(fs, func(i *computev1.Image) bool { return string(views.ImagePhase(i)) == want })
		case k == "changes-since":
			t, err := js.ParseISOTime(v)
			if err != nil {
				return nil, badRequest("Invalid input received: changes-since")
			}
			fs = append(fs, func(i *computev1.Image) bool { return !views.ImageUpdated(i).Before(t) })
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
	if err := deleteExact(rq.ctx, h.writer(rq.ctx), img, ""); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return rq.json(http.StatusNoContent, nil)
}
