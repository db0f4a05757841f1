package schemas

import js "github.com/kova-dev/kova/internal/novaapi/validation"

// MaxImageRetention bounds how many scheduled images one server keeps.
const MaxImageRetention = 100

// ImageSchedule is Rackspace's POST /servers/{id}/rax-si-image-schedule: a retention (a
// positive integer) and, for a weekly schedule, the day.
var ImageSchedule = js.New(js.Type("object"),
	js.Properties(js.P("image_schedule", js.New(js.Type("object"),
		js.Properties(
			js.P("retention", js.New(js.Type("integer"), js.Minimum(1), js.Maximum(MaxImageRetention))),
			js.P("day_of_week", js.New(js.Type("string"),
				js.Enum("SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY"))),
		),
		js.Required("retention"), js.NoAdditionalProperties()))),
	js.Required("image_schedule"), js.NoAdditionalProperties())
