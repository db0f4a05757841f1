package novaapi

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// glanceImage is Glance's image: its fixed attributes, then the custom properties at the top
// level beside them (an image's metadata, which the compute API shows as its metadata).
type glanceImage struct {
	img   *computev1.Image
	owner string
}

// glanceTime is Glance's timestamp: seconds, UTC, a Z.
func glanceTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// nullable is v, or JSON null for the zero value.
func nullable[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// glanceBase are the attributes of the image schema, which no custom property may be
// called; reserved ones Glance refuses outright.
var (
	glanceReadOnly = map[string]bool{
		"checksum": true, "created_at": true, "updated_at": true, "status": true, "size": true, "virtual_size": true,
		"self": true, "file": true, "schema": true, "direct_url": true, "os_hash_algo": true, "os_hash_value": true,
		"id": true, "owner": true, "locations": true, "stores": true,
	}
	glanceReserved = map[string]bool{"location": true, "deleted": true, "deleted_at": true}
	glanceWritable = map[string]bool{
		"name": true, "visibility": true, "tags": true, "min_disk": true, "min_ram": true, "disk_format": true,
		"container_format": true, "protected": true, "os_hidden": true,
	}
)

func (v glanceImage) fields() map[string]any {
	img := v.img
	id := string(img.UID)
	st := img.Status
	tags := img.Spec.Tags
	if tags == nil {
		tags = []string{}
	}
	f := map[string]any{
		"name":             nullable(img.DisplayName()),
		"disk_format":      nullable(img.Spec.DiskFormat),
		"container_format": nullable(img.Spec.ContainerFormat),
		"visibility":       img.Spec.Visibility,
		"size":             nullable(st.SizeBytes),
		"virtual_size":     nil,
		"status":           string(views.ImagePhase(img)),
		"checksum":         nullable(st.Checksum),
		"protected":        img.Spec.Protected,
		"min_ram":          img.Spec.MinRAM,
		"min_disk":         img.Spec.MinDisk,
		"owner":            v.owner,
		"os_hidden":        false,
		"os_hash_algo":     nullable(st.OSHashAlgo),
		"os_hash_value":    nullable(st.OSHashValue),
		"id":               id,
		"created_at":       glanceTime(img.CreationTimestamp.Time),
		"updated_at":       glanceTime(views.ImageUpdated(img)),
		"tags":             tags,
		"self":             "/v2/images/" + id,
		"file":             "/v2/images/" + id + "/file",
		"schema":           "/v2/schemas/image",
	}
	if f["visibility"] == "" {
		f["visibility"] = "private"
	}
	for k, val := range img.Spec.Metadata {
		if _, base := f[k]; !base {
			f[k] = val
		}
	}
	return f
}

// glanceOrder is the order Glance writes an image's attributes in: the custom properties
// first (as the peer does), then the schema's.
var glanceOrder = []string{"name", "disk_format", "container_format", "visibility", "size", "virtual_size", "status",
	"checksum", "protected", "min_ram", "min_disk", "owner", "os_hidden", "os_hash_algo", "os_hash_value", "id",
	"created_at", "updated_at", "tags", "self", "file", "schema"}

// MarshalJSON writes the attributes in Glance's order.
func (v glanceImage) MarshalJSON() ([]byte, error) {
	f := v.fields()
	base := map[string]bool{}
	for _, k := range glanceOrder {
		base[k] = true
	}
	var custom []string
	for k := range f {
		if !base[k] {
			custom = append(custom, k)
		}
	}
	sort.Strings(custom)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range append(custom, glanceOrder...) {
		if i > 0 {
			buf.WriteString(", ")
		}
		buf.Write(marshal(k))
		buf.WriteString(": ")
		buf.Write(marshal(f[k]))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

var _ json.Marshaler = glanceImage{}

// glanceView is img as Glance shows it.
func (rq *glanceRequest) glanceView(img *computev1.Image) glanceImage {
	return glanceImage{img: img, owner: img.Namespace}
}
