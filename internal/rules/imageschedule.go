package rules

import (
	"sort"
	"strings"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Scheduled images (Rackspace's rax-si-image-schedule): one snapshot per period, a day, or
// for a weekly schedule the one day of the week it names, in UTC. A period is named by its
// date, and the createImage ServerAction of a period is named after it, so however often
// the controller looks, and on whichever replica, a period has at most one snapshot.

// ScheduledImagePeriod is the period now falls in ("20261201") and whether the schedule
// takes a snapshot in it.
func ScheduledImagePeriod(s *computev1.ImageSchedule, now time.Time) (string, bool) {
	now = now.UTC()
	return now.Format("20060102"), s.DayOfWeek == "" || strings.EqualFold(now.Weekday().String(), s.DayOfWeek)
}

// NextScheduledImage is when the period after now's next takes a snapshot: the next
// midnight (UTC) for a daily schedule, the next midnight of its day for a weekly one.
func NextScheduledImage(s *computev1.ImageSchedule, now time.Time) time.Time {
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	for i := 0; i < 7; i++ {
		if _, due := ScheduledImagePeriod(s, next); due {
			return next
		}
		next = next.AddDate(0, 0, 1)
	}
	return next
}

// ScheduledImageActionName is the createImage ServerAction of srv's scheduled image in
// period.
func ScheduledImageActionName(srv *computev1.Server, period string) string {
	return srv.Name + "-scheduled-image-" + period
}

// ScheduledImageName is the display name of the image of a period: the server's name and
// the day, as Rackspace names them by server and date.
func ScheduledImageName(srv *computev1.Server, period string) string {
	name := srv.Spec.Name
	if name == "" {
		name = srv.Name
	}
	const room = 255 - len("-scheduled-20261201")
	if len(name) > room {
		name = name[:room]
	}
	return name + "-scheduled-" + period
}

// ScheduledImagesBeyond are srv's scheduled images past its retention, oldest first: what
// the schedule removes. Images made by hand, and images of other servers, never count; a
// scheduled image someone protected counts but is never removed.
func ScheduledImagesBeyond(images []computev1.Image, srv *computev1.Server, retention int) []*computev1.Image {
	var mine []*computev1.Image
	for i := range images {
		img := &images[i]
		if img.Spec.Metadata[computev1.MetadataScheduledImage] == "" ||
			img.Spec.Metadata["instance_uuid"] != string(srv.UID) || !img.DeletionTimestamp.IsZero() {
			continue
		}
		mine = append(mine, img)
	}
	if len(mine) <= retention {
		return nil
	}
	// By period, which the marker holds: creation times have a second's grain.
	sort.SliceStable(mine, func(i, j int) bool {
		a, b := mine[i].Spec.Metadata[computev1.MetadataScheduledImage], mine[j].Spec.Metadata[computev1.MetadataScheduledImage]
		if a != b {
			return a < b
		}
		return mine[i].CreationTimestamp.Before(&mine[j].CreationTimestamp)
	})
	var out []*computev1.Image
	for _, img := range mine[:len(mine)-retention] {
		if !img.Spec.Protected {
			out = append(out, img)
		}
	}
	return out
}
