package novaapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// An image's attributes as Glance's create and PATCH set them, and the PATCH itself
// (application/openstack-images-v2.1-json-patch: add, replace and remove of one attribute
// each, "/name", "/tags", "/os_distro", ...).

// Glance's formats, as the Image CRD's enums have them.
var (
	glanceDiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	glanceContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	glanceVisibilities     = []string{"community", "public", "private", "shared"}
)

func schemaError(format string, args ...any) *glanceError {
	return gErr(http.StatusBadRequest, "Provided object does not match schema 'image': "+fmt.Sprintf(format, args...))
}

func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, gErr(http.StatusBadRequest, "Malformed JSON in request body.")
	}
	return v, nil
}

func decodeGlanceObject(body []byte) (map[string]any, error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, schemaError("%s is not of type 'object'", pyRepr(v))
	}
	return m, nil
}

func pyRepr(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + t + "'"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case json.Number:
		return string(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func quoted(set []string) string {
	q := make([]string, len(set))
	for i, s := range set {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// setGlanceAttr sets one attribute of an image from a request's value.
func setGlanceAttr(img *computev1.Image, key string, v any, create bool) error {
	switch {
	case glanceReserved[key]:
		return gErr(http.StatusForbidden, "Attribute '"+key+"' is reserved.")
	case glanceReadOnly[key]:
		return gErr(http.StatusForbidden, "Attribute '"+key+"' is read-only.")
	}
	switch key {
	case "name":
		s, err := glanceString(v, true)
		img.Spec.Name = s
		return err
	case "visibility":
		s, err := glanceEnum(v, glanceVisibilities, false)
		if err == nil {
			img.Spec.Visibility = s
		}
		return err
	case "disk_format", "container_format":
		return setGlanceFormat(img, key, v, create)
	case "min_disk", "min_ram":
		return setGlanceMinimum(img, key, v)
	case "protected", "os_hidden":
		b, ok := v.(bool)
		if !ok {
			return schemaError("%s is not of type 'boolean'", pyRepr(v))
		}
		if key == "os_hidden" {
			if b {
				return gErr(http.StatusBadRequest, "Hidden images (os_hidden) are not supported by Kova.")
			}
			return nil
		}
		img.Spec.Protected = b
		return nil
	case "tags":
		tags, err := glanceTags(v)
		if err == nil {
			img.Spec.Tags = tags
		}
		return err
	}
	if key == "" || len(key) > glanceMaxString {
		return schemaError("'%s' does not match any of the regexes", key)
	}
	s, err := glanceString(v, false)
	if err != nil {
		return err
	}
	if img.Spec.Metadata == nil {
		img.Spec.Metadata = map[string]string{}
	}
	img.Spec.Metadata[key] = s
	return nil
}

func glanceString(v any, nullOK bool) (string, error) {
	if v == nil && nullOK {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", schemaError("%s is not of type 'string'", pyRepr(v))
	}
	if len(s) > glanceMaxString {
		return "", schemaError("'%s' is too long", s)
	}
	return s, nil
}

func glanceEnum(v any, set []string, nullOK bool) (string, error) {
	s, err := glanceString(v, nullOK)
	if err == nil && s != "" && !oneOf(s, set) {
		return "", schemaError("'%s' is not one of %s", s, quoted(set))
	}
	return s, err
}

// setGlanceFormat sets the disk or container format, which only a queued image may change.
func setGlanceFormat(img *computev1.Image, key string, v any, create bool) error {
	set := glanceDiskFormats
	if key == "container_format" {
		set = glanceContainerFormats
	}
	s, err := glanceEnum(v, set, true)
	if err != nil {
		return err
	}
	if !create && views.ImagePhase(img) != computev1.ImageQueued {
		return gErr(http.StatusForbidden, "Attribute "+key+" can be only replaced for a queued image.")
	}
	if key == "disk_format" {
		img.Spec.DiskFormat = s
	} else {
		img.Spec.ContainerFormat = s
	}
	return nil
}

func setGlanceMinimum(img *computev1.Image, key string, v any) error {
	n, ok := v.(json.Number)
	i, err := strconv.ParseInt(string(n), 10, 64)
	if !ok || err != nil {
		return schemaError("%s is not of type 'integer'", pyRepr(v))
	}
	if i < 0 {
		return gErr(http.StatusBadRequest, fmt.Sprintf("Invalid value '%d' for parameter '%s': Cannot be a negative value", i, key))
	}
	if key == "min_disk" {
		img.Spec.MinDisk = i
	} else {
		img.Spec.MinRAM = i
	}
	return nil
}

// glanceTags reads a tag list: strings of at most 255 characters, a set.
func glanceTags(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, schemaError("%s is not of type 'array'", pyRepr(v))
	}
	var tags []string
	for _, t := range arr {
		s, ok := t.(string)
		if !ok {
			return nil, schemaError("%s is not of type 'string'", pyRepr(t))
		}
		if len(s) > glanceMaxString {
			return nil, schemaError("'%s' is too long", s)
		}
		if !containsString(tags, s) {
			tags = append(tags, s)
		}
	}
	return tags, nil
}

// checkGlanceBounds are Glance's quotas on one image: custom properties and tags.
func checkGlanceBounds(img *computev1.Image) error {
	if n := len(img.Spec.Metadata); n > glanceMaxProps {
		return gErr(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Maximum number of image properties exceeded: attempted %d, maximum %d", n, glanceMaxProps))
	}
	if n := len(img.Spec.Tags); n > glanceMaxTags {
		return gErr(http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Maximum number of image tags exceeded: attempted %d, maximum %d", n, glanceMaxTags))
	}
	return nil
}

// patchOp is one operation of a JSON patch.
type patchOp struct {
	op, attr string
	value    any
}

// glancePatchTypes are the media types of Glance's PATCH.
var glancePatchTypes = []string{"application/openstack-images-v2.0-json-patch", "application/openstack-images-v2.1-json-patch"}

func parsePatch(body []byte) ([]patchOp, error) {
	v, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, gErr(http.StatusBadRequest, "Request body must be a JSON array of operation objects.")
	}
	var ops []patchOp
	for _, raw := range arr {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, gErr(http.StatusBadRequest, "Operations must be JSON objects.")
		}
		op, _ := m["op"].(string)
		if op != "add" && op != "remove" && op != "replace" {
			return nil, gErr(http.StatusBadRequest, "Invalid operation: `"+op+"`. It must be one of the following: add, remove, replace.")
		}
		path, ok := m["path"].(string)
		if !ok {
			return nil, gErr(http.StatusBadRequest, "Unable to find `path` in JSON Schema change. It must be one of the following: path, op, value.")
		}
		attr := strings.TrimPrefix(path, "/")
		if !strings.HasPrefix(path, "/") || attr == "" || strings.Contains(attr, "/") {
			return nil, gErr(http.StatusBadRequest, "Invalid JSON pointer for this resource: '"+path+"'")
		}
		attr = strings.NewReplacer("~1", "/", "~0", "~").Replace(attr)
		val, has := m["value"]
		if op != "remove" && !has {
			return nil, gErr(http.StatusBadRequest, "Unable to find `value` in JSON Schema change. It must be one of the following: path, op, value.")
		}
		ops = append(ops, patchOp{op: op, attr: attr, value: val})
	}
	return ops, nil
}

// applyPatch applies ops to img, as Glance's _do_add, _do_replace and _do_remove do.
func applyPatch(img *computev1.Image, ops []patchOp) error {
	for _, o := range ops {
		base := glanceWritable[o.attr] || glanceReadOnly[o.attr] || glanceReserved[o.attr]
		_, custom := img.Spec.Metadata[o.attr]
		switch o.op {
		case "remove":
			switch {
			case glanceReserved[o.attr]:
				return gErr(http.StatusForbidden, "Attribute '"+o.attr+"' is reserved.")
			case base:
				return gDetail(http.StatusForbidden, "Property "+o.attr+" may not be removed.")
			case !custom:
				return gDetail(http.StatusConflict, "Property "+o.attr+" does not exist.")
			}
			delete(img.Spec.Metadata, o.attr)
		case "replace":
			if !base && !custom {
				return gDetail(http.StatusConflict, "Property "+o.attr+" does not exist.")
			}
			if err := setGlanceAttr(img, o.attr, o.value, false); err != nil {
				return err
			}
		default:
			if err := setGlanceAttr(img, o.attr, o.value, false); err != nil {
				return err
			}
		}
	}
	return checkGlanceBounds(img)
}

// updateImage is PATCH /v2/images/{id}, as the caller: the ops are applied to the image as
// the API server has it, again after a conflicting write.
func (rq *glanceRequest) updateImage() error {
	mt, _, _ := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if !oneOf(mt, glancePatchTypes) {
		rq.w.Header().Set("Accept-Patch", strings.Join(glancePatchTypes, ", "))
		return gErr(http.StatusUnsupportedMediaType, "The request media type "+mt+" is not supported by this server.")
	}
	body, err := rq.readBody()
	if err != nil {
		return err
	}
	ops, err := parsePatch(body)
	if err != nil {
		return err
	}
	img, err := rq.visibleImage(rq.param(0))
	if err != nil {
		return err
	}
	if err := rq.mayModify(img); err != nil {
		return err
	}
	var admin *bool
	out, err := patchFresh(rq.ctx, rq.h.writer(rq.ctx), img, func(i *computev1.Image) error {
		was := i.Spec.Visibility
		if err := applyPatch(i, ops); err != nil {
			return err
		}
		if i.Spec.Visibility == "public" && was != "public" {
			if admin == nil {
				ok, err := rq.isAdmin()
				if err != nil {
					return err
				}
				admin = &ok
			}
			if !*admin {
				return gErr(http.StatusForbidden, "You are not authorized to complete publicize_image action.")
			}
			if err := rules.CheckImageVisibility(i, rq.h.public); err != nil {
				return gErr(http.StatusForbidden, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, rq.glanceView(out))
}

// mayModify refuses changes to another tenant's image (a public one) from anyone but the
// cloud operator.
func (rq *glanceRequest) mayModify(img *computev1.Image) error {
	if img.Namespace == rq.caller.Tenant {
		return nil
	}
	admin, err := rq.isAdmin()
	if err != nil {
		return err
	}
	if !admin {
		return gErr(http.StatusForbidden, "You are not authorized to complete modify_image action.")
	}
	return nil
}
