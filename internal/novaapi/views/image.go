package views

import (
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Image is Nova's detailed image (views/images.py; the image proxy exists until 2.35),
// in GET /images/detail and GET /images/{id}. Glance's statuses become Nova's: queued
// and saving are SAVING, killed is ERROR.
type Image struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	MinRAM     int64             `json:"minRam"`
	MinDisk    int64             `json:"minDisk"`
	Metadata   map[string]string `json:"metadata"`
	Created    string            `json:"created"`
	Updated    string            `json:"updated"`
	Status     string            `json:"status"`
	Progress   int               `json:"progress"`
	Size       *int64            `json:"OS-EXT-IMG-SIZE:size"` // null until it has a size (or is active)
	Links      []Link            `json:"links"`
	Server     *Ref              `json:"server,omitempty"`            // a snapshot's server
	DiskConfig string            `json:"OS-DCF:diskConfig,omitempty"` // when its metadata says auto_disk_config
}

// ImageSummary is an image in GET /images.
type ImageSummary struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Links []Link `json:"links"`
}

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

// ImagePhase is an image's Glance status; one nobody has looked at yet is queued.
func ImagePhase(img *computev1.Image) computev1.ImagePhase {
	if img.Status.Status == "" {
		return computev1.ImageQueued
	}
	return img.Status.Status
}

// ImageUpdated is when an image last changed.
func ImageUpdated(img *computev1.Image) time.Time {
	if img.Status.Updated != nil && img.Status.Updated.After(img.CreationTimestamp.Time) {
		return img.Status.Updated.Time
	}
	return img.CreationTimestamp.Time
}

// ImageInput is what an image's view is made of: the Image, its links and its
// server's, and its auto_disk_config metadata as a bool (autoDisk, if it has one).
type ImageInput struct {
	Image                   *computev1.Image
	Links                   []Link
	ServerLinks             func(id string) []Link
	AutoDiskConfig, HasAuto bool
}

// NewImage lays out one image.
func NewImage(in ImageInput) *Image {
	img := in.Image
	phase := ImagePhase(img)
	status, ok := imageStatuses[phase]
	if !ok {
		status = "UNKNOWN"
	}
	metadata := img.Spec.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	out := &Image{
		ID:       string(img.UID),
		Name:     img.DisplayName(),
		MinRAM:   img.Spec.MinRAM,
		MinDisk:  img.Spec.MinDisk,
		Metadata: metadata,
		Created:  ISOTime(img.CreationTimestamp.Time),
		Updated:  ISOTime(ImageUpdated(img)),
		Status:   status,
		Progress: imageProgress[phase],
		Links:    in.Links,
	}
	if img.Status.SizeBytes > 0 || phase == computev1.ImageActive {
		size := img.Status.SizeBytes
		out.Size = &size
	}
	if uuid := img.Spec.Metadata["instance_uuid"]; uuid != "" {
		out.Server = &Ref{ID: uuid, Links: in.ServerLinks(uuid)}
	}
	if in.HasAuto {
		out.DiskConfig = "MANUAL"
		if in.AutoDiskConfig {
			out.DiskConfig = "AUTO"
		}
	}
	return out
}
