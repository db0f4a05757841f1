package novaapi

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// Glance's bounds (glance-api.conf defaults): a page's length, and an image's custom
// properties and tags.
const (
	glanceDefaultLimit = 25   // limit_param_default
	glanceMaxLimit     = 1000 // api_limit_max
	glanceMaxProps     = 128  // image_property_quota
	glanceMaxTags      = 128  // image_tag_quota
	glanceMaxString    = 255
)

// imageNotFound is Glance's 404 for an image the caller cannot see.
func imageNotFound(id string) *glanceError {
	return gErr(http.StatusNotFound, "No image found with ID "+id)
}

// visibleImage finds an image the caller sees, as the API server has it now.
func (rq *glanceRequest) visibleImage(id string) (*computev1.Image, error) {
	img, ok, err := rq.h.image(rq.ctx, rq.caller.Tenant, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, imageNotFound(id)
	}
	return img, nil
}

func (rq *glanceRequest) showImage() error {
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, rq.glanceView(img))
}

// glanceSortKeys are the keys Glance sorts by.
var glanceSortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}

type glanceSort struct {
	key  string
	desc bool
}

// listImages is GET /v2/images: the caller's images, the public ones and those shared with
// it (listedImages), filtered, sorted and paged as Glance does.
func (rq *glanceRequest) listImages() error {
	q := rq.r.URL.Query()
	limit := glanceDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return gErr(http.StatusBadRequest, "limit param must be an integer")
		}
		if n < 0 {
			return gErr(http.StatusBadRequest, "limit param must be positive")
		}
		limit = min(n, glanceMaxLimit)
	}
	sorts, err := glanceSorts(q)
	if err != nil {
		return err
	}
	filter, err := glanceFilters(q)
	if err != nil {
		return err
	}
	memberStatus := "accepted"
	if q.Has("member_status") {
		memberStatus = q.Get("member_status")
		switch memberStatus {
		case "pending", "accepted", "rejected", "all":
		default:
			return gErr(http.StatusBadRequest, "Invalid status: "+memberStatus)
		}
	}
	listed, err := rq.h.listedImages(rq.ctx, rq.caller.Tenant, q.Get("visibility"), memberStatus)
	if err != nil {
		return err
	}
	var imgs []*computev1.Image
	for _, img := range listed {
		if filter(img) {
			imgs = append(imgs, img)
		}
	}
	sort.SliceStable(imgs, func(i, j int) bool { return glanceLess(imgs[i], imgs[j], sorts) })
	if marker := q.Get("marker"); marker != "" {
		at := -1
		for i, img := range imgs {
			if string(img.UID) == marker {
				at = i
			}
		}
		if at < 0 {
			return gErr(http.StatusBadRequest, "No image found with ID "+marker)
		}
		imgs = imgs[at+1:]
	}
	if len(imgs) > limit {
		imgs = imgs[:limit]
	}
	out := make([]glanceImage, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, rq.glanceView(img))
	}
	// Glance's links: the query as sent, without the marker, and the next page's marker last.
	query := withoutMarker(rq.r.URL.RawQuery)
	first := "/v2/images"
	if query != "" {
		first += "?" + query
	}
	body := map[string]any{"images": out, "first": first, "schema": "/v2/schemas/images"}
	if len(imgs) > 0 && len(imgs) == limit {
		next := "marker=" + url.QueryEscape(string(imgs[len(imgs)-1].UID))
		if query != "" {
			next = query + "&" + next
		}
		body["next"] = "/v2/images?" + next
	}
	return rq.json(http.StatusOK, body)
}

func withoutMarker(raw string) string {
	var kept []string
	for _, kv := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if kv != "" && k != "marker" {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, "&")
}

// glanceSorts reads sort_key/sort_dir (repeatable) or the newer sort=key:dir,... form;
// created_at descending by default, and id last, as Glance breaks ties.
func glanceSorts(q url.Values) ([]glanceSort, error) {
	var sorts []glanceSort
	valid := func(k string) error {
		for _, s := range glanceSortKeys {
			if s == k {
				return nil
			}
		}
		return gErr(http.StatusBadRequest, "Invalid sort key: "+k+". It must be one of the following: "+strings.Join(glanceSortKeys, ", ")+".")
	}
	dir := func(d string) (bool, error) {
		switch d {
		case "", "desc":
			return true, nil
		case "asc":
			return false, nil
		}
		return false, gErr(http.StatusBadRequest, "Invalid sort direction: "+d)
	}
	if q.Has("sort") {
		if q.Has("sort_key") || q.Has("sort_dir") {
			return nil, gErr(http.StatusBadRequest, "Old and new sorting syntax cannot be combined")
		}
		for _, part := range strings.Split(q.Get("sort"), ",") {
			k, d, _ := strings.Cut(strings.TrimSpace(part), ":")
			if err := valid(k); err != nil {
				return nil, err
			}
			desc, err := dir(d)
			if err != nil {
				return nil, err
			}
			sorts = append(sorts, glanceSort{k, desc})
		}
	} else {
		dirs := q["sort_dir"]
		for i, k := range q["sort_key"] {
			if err := valid(k); err != nil {
				return nil, err
			}
			d := ""
			if i < len(dirs) {
				d = dirs[i]
			} else if len(dirs) > 0 {
				d = dirs[len(dirs)-1]
			}
			desc, err := dir(d)
			if err != nil {
				return nil, err
			}
			sorts = append(sorts, glanceSort{k, desc})
		}
		if len(sorts) == 0 {
			desc, err := dir(q.Get("sort_dir"))
			if err != nil {
				return nil, err
			}
			sorts = []glanceSort{{"created_at", desc}}
		}
	}
	return append(sorts, glanceSort{"id", true}), nil
}

func glanceLess(a, b *computev1.Image, sorts []glanceSort) bool {
	for _, s := range sorts {
		c := glanceCompare(a, b, s.key)
		if c == 0 {
			continue
		}
		if s.desc {
			return c > 0
		}
		return c < 0
	}
	return false
}

func glanceCompare(a, b *computev1.Image, key string) int {
	str := func(x, y string) int { return strings.Compare(x, y) }
	switch key {
	case "name":
		return str(a.DisplayName(), b.DisplayName())
	case "status":
		return str(string(views.ImagePhase(a)), string(views.ImagePhase(b)))
	case "container_format":
		return str(a.Spec.ContainerFormat, b.Spec.ContainerFormat)
	case "disk_format":
		return str(a.Spec.DiskFormat, b.Spec.DiskFormat)
	case "size":
		return cmpInt(a.Status.SizeBytes, b.Status.SizeBytes)
	case "created_at":
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	case "updated_at":
		return views.ImageUpdated(a).Compare(views.ImageUpdated(b))
	}
	return str(string(a.UID), string(b.UID))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// glanceReservedParams are the list's parameters that are not filters.
var glanceReservedParams = map[string]bool{"limit": true, "marker": true, "sort_key": true, "sort_dir": true, "sort": true, "member_status": true}

// glanceFilters are Glance's list filters: visibility, name, status, tag (each given tag),
// owner, protected, disk_format, container_format, id, size_min, size_max, os_hidden, and
// any other parameter as a custom property.
func glanceFilters(q url.Values) (func(*computev1.Image) bool, error) {
	var fs []func(*computev1.Image) bool
	add := func(f func(*computev1.Image) bool) { fs = append(fs, f) }
	for k, vals := range q {
		v := vals[len(vals)-1]
		switch {
		case glanceReservedParams[k]:
		case k == "visibility":
			switch v {
			case "all":
			case "public", "private", "shared", "community":
				add(func(i *computev1.Image) bool { return glanceVisibility(i) == v })
			default:
				return nil, gErr(http.StatusBadRequest, "Invalid visibility value: "+v)
			}
		case k == "name":
			add(func(i *computev1.Image) bool { return i.DisplayName() == v })
		case k == "status":
			add(func(i *computev1.Image) bool { return string(views.ImagePhase(i)) == strings.ToLower(v) })
		case k == "tag":
			for _, t := range vals {
				add(func(i *computev1.Image) bool { return containsString(i.Spec.Tags, t) })
			}
		case k == "owner":
			add(func(i *computev1.Image) bool { return i.Namespace == v })
		case k == "protected":
			want, err := strconv.ParseBool(v)
			if err != nil {
				return nil, gErr(http.StatusBadRequest, "Invalid value for protected: "+v)
			}
			add(func(i *computev1.Image) bool { return i.Spec.Protected == want })
		case k == "disk_format":
			add(func(i *computev1.Image) bool { return i.Spec.DiskFormat == v })
		case k == "container_format":
			add(func(i *computev1.Image) bool { return i.Spec.ContainerFormat == v })
		case k == "id":
			add(func(i *computev1.Image) bool { return string(i.UID) == v })
		case k == "size_min", k == "size_max":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, gErr(http.StatusBadRequest, "Invalid value for "+k+": "+v)
			}
			lower := k == "size_min"
			add(func(i *computev1.Image) bool {
				if lower {
					return i.Status.SizeBytes >= n
				}
				return i.Status.SizeBytes <= n
			})
		case k == "os_hidden":
			want, _ := strconv.ParseBool(v)
			add(func(*computev1.Image) bool { return !want })
		default:
			add(func(i *computev1.Image) bool { got, ok := i.Spec.Metadata[k]; return ok && got == v })
		}
	}
	return func(i *computev1.Image) bool {
		for _, f := range fs {
			if !f(i) {
				return false
			}
		}
		return true
	}, nil
}

func glanceVisibility(i *computev1.Image) string {
	if i.Spec.Visibility == "" {
		return "private"
	}
	return i.Spec.Visibility
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// createImage is POST /v2/images: a queued image of the caller's tenant (a public one, in the
// public namespace, only from the cloud operator), written as the caller, so RBAC and the
// admission webhook judge the real requester.
func (rq *glanceRequest) createImage() error {
	body, err := rq.readBody()
	if err != nil {
		return err
	}
	attrs, err := decodeGlanceObject(body)
	if err != nil {
		return err
	}
	if _, ok := attrs["id"]; ok {
		// Glance takes a client's id; Kubernetes gives every object its uid, which is Kova's id.
		return gErr(http.StatusForbidden, "Attribute 'id' is read-only.")
	}
	img := &computev1.Image{
		ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, GenerateName: "image-"},
		Spec: computev1.ImageSpec{
			Source:     computev1.ImageSource{Upload: &computev1.UploadSource{}},
			Visibility: "shared", // Glance's default
		},
	}
	for k, v := range attrs {
		if err := setGlanceAttr(img, k, v, true); err != nil {
			return err
		}
	}
	if err := checkGlanceBounds(img); err != nil {
		return err
	}
	if img.Spec.Visibility == "public" {
		admin, err := rq.isAdmin()
		if err != nil {
			return err
		}
		if !admin {
			return gErr(http.StatusForbidden, "You are not authorized to complete publicize_image action.")
		}
		img.Namespace = rq.h.public
	}
	if err := rq.h.writer(rq.ctx).Create(rq.ctx, img); err != nil {
		return err
	}
	id := string(img.UID)
	rq.w.Header().Set("Location", rq.caller.Root+"/v2/images/"+id)
	return rq.json(http.StatusCreated, rq.glanceView(img))
}

func (rq *glanceRequest) isAdmin() (bool, error) {
	if rq.h.admins == nil {
		return false, nil
	}
	return rq.h.admins.IsAdmin(rq.ctx, rq.caller.User)
}

// deleteImage is DELETE /v2/images/{id}: refused for another tenant's (public) image, a
// protected one, and one a server is being built from; the data goes with the image.
func (rq *glanceRequest) deleteImage() error {
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	if img.Namespace != rq.caller.Tenant {
		if admin, err := rq.isAdmin(); err != nil || !admin {
			if err != nil {
				return err
			}
			return gErr(http.StatusForbidden, "You are not authorized to complete delete_image action.")
		}
	}
	var servers computev1.ServerList
	if err := rq.h.cache.List(rq.ctx, &servers, inNamespace(rules.ImageUsers(img, rq.h.public))...); err != nil {
		return err
	}
	if err := rules.CheckImageDelete(img, servers.Items, rq.h.public); err != nil {
		var inUse *rules.ImageInUseError
		if errors.As(err, &inUse) {
			return gErr(http.StatusConflict, err.Error())
		}
		return gErr(http.StatusForbidden, err.Error())
	}
	uid := img.UID
	if err := deleteExact(rq.ctx, rq.h.writer(rq.ctx), img, ""); err != nil {
		if apierrors.IsNotFound(err) {
			return imageNotFound(rq.param(0))
		}
		return err
	}
	if rq.g.store != nil {
		_ = rq.g.store.Delete(string(uid)) // else the store's sweep takes it
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
