package v1alpha1

// ImageSchedule is Rackspace's scheduled images (rax-si-image-schedule): a snapshot of the
// server daily, or weekly on DayOfWeek, of which the newest Retention are kept. It is
// desired state, so a schedule lives in Git with the server; the image-schedule controller
// takes the snapshots through createImage ServerActions.
type ImageSchedule struct {
	// Retention is how many scheduled images of the server are kept (manual ones are
	// never removed).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Retention int32 `json:"retention"`
	// DayOfWeek makes the schedule weekly, on that day (UTC); absent is daily.
	// +optional
	// +kubebuilder:validation:Enum=SUNDAY;MONDAY;TUESDAY;WEDNESDAY;THURSDAY;FRIDAY;SATURDAY
	DayOfWeek string `json:"dayOfWeek,omitempty"`
}

// LabelScheduledImage marks the createImage ServerActions the image-schedule controller
// makes (its value is the server's name), and MetadataScheduledImage the images they make
// (its value is the period, 20261201), so retention counts scheduled images only.
const (
	LabelScheduledImage    = "compute.kova.dev/scheduled-image"
	MetadataScheduledImage = "kova_scheduled_image"
)
