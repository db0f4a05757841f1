package schemas

import (
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// Metadata is PUT and POST .../metadata; MetaItem is PUT .../metadata/{key}
// (server_metadata.py; image_metadata.py is the same).
var (
	Metadata  = js.New(js.Type("object"), js.Properties(js.P("metadata", sMetadata)), js.Required("metadata"), js.NoAdditionalProperties())
	MetaItem  = js.New(js.Type("object"), js.Properties(js.P("meta", sMetaItem)), js.Required("meta"), js.NoAdditionalProperties())
	sMetaItem = js.New(js.Type("object"),
		js.PatternProperties(metaKeySrc, metaKeyRE, js.New(js.Type("string"), js.MaxLength(255))),
		js.NoAdditionalProperties(), js.MinProperties(1), js.MaxProperties(1))
)
