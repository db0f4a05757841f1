package schemas

import (
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// devicePatternSrc is Nova's block_device.match_device pattern for a device name.
const devicePatternSrc = "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"

// VolumeAttachmentCreate is POST /servers/{id}/os-volume_attachments
// (schemas/volumes.py): volumeId and device, tag from 2.49, delete_on_termination from
// 2.79.
func VolumeAttachmentCreate(v microversion.Version) *js.Schema {
	ps := []js.Prop{
		js.P("volumeId", js.New(js.Type("string"), js.Format("uuid"))),
		js.P("device", js.New(js.Type("string", "null"), js.Pattern(devicePatternSrc, `(^/dev/x?[a-z]?d?)([a-z]+)[0-9]*$`))),
	}
	if v.AtLeast(49) {
		ps = append(ps, js.P("tag", sTag))
	}
	if v.AtLeast(79) {
		ps = append(ps, js.P("delete_on_termination", sBoolean))
	}
	att := js.New(js.Type("object"), js.Properties(ps...), js.Required("volumeId"), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("volumeAttachment", att)), js.Required("volumeAttachment"), js.NoAdditionalProperties())
}

// VolumeAttachmentQuery is the query of the attachments list: limit and offset.
func VolumeAttachmentQuery(v microversion.Version) *js.Schema {
	return queryOf(v, js.P("limit", qLimit), js.P("offset", qLimit))
}

// VolumeAttachmentUpdate is PUT /servers/{id}/os-volume_attachments/{volume_id} below 2.85
// (schemas/volumes.py update_volume_attachment): the volumeId alone.
func VolumeAttachmentUpdate(microversion.Version) *js.Schema {
	att := js.New(js.Type("object"), js.Properties(js.P("volumeId", js.New(js.Type("string"), js.Format("uuid")))),
		js.Required("volumeId"), js.NoAdditionalProperties())
	return js.New(js.Type("object"), js.Properties(js.P("volumeAttachment", att)), js.Required("volumeAttachment"), js.NoAdditionalProperties())
}
