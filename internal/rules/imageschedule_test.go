package rules

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestScheduledImagePeriods(t *testing.T) {
	tue := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC) // a Tuesday
	daily := &computev1.ImageSchedule{Retention: 1}
	weekly := &computev1.ImageSchedule{Retention: 1, DayOfWeek: "FRIDAY"}
	if p, due := ScheduledImagePeriod(daily, tue); p != "20261201" || !due {
		t.Errorf("daily: %s %v", p, due)
	}
	if _, due := ScheduledImagePeriod(weekly, tue); due {
		t.Error("weekly on Friday is due on a Tuesday")
	}
	if _, due := ScheduledImagePeriod(weekly, tue.AddDate(0, 0, 3)); !due {
		t.Error("weekly on Friday is not due on Friday")
	}
	if next := NextScheduledImage(daily, tue); !next.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("daily next %v", next)
	}
	if next := NextScheduledImage(weekly, tue); !next.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly next %v", next)
	}
	if next := NextScheduledImage(weekly, tue.AddDate(0, 0, 3)); !next.Equal(time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("weekly next from its own day %v", next)
	}
	// Another zone's evening is already the next UTC day.
	if p, _ := ScheduledImagePeriod(daily, time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("x", -5*3600))); p != "20261202" {
		t.Errorf("period in UTC: %s", p)
	}
}

func TestScheduledImagesBeyond(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "s1"}}
	img := func(name, period, server string) computev1.Image {
		meta := map[string]string{"instance_uuid": server}
		if period != "" {
			meta[computev1.MetadataScheduledImage] = period
		}
		return computev1.Image{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: computev1.ImageSpec{Metadata: meta}}
	}
	imgs := []computev1.Image{
		img("c", "20261203", "s1"), img("a", "20261201", "s1"), img("manual", "", "s1"),
		img("b", "20261202", "s1"), img("other", "20261130", "s2"),
	}
	var names []string
	for _, i := range ScheduledImagesBeyond(imgs, srv, 1) {
		names = append(names, i.Name)
	}
	if len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Errorf("beyond retention 1: %v", names)
	}
	if got := ScheduledImagesBeyond(imgs, srv, 3); got != nil {
		t.Errorf("within retention: %v", got)
	}
}
