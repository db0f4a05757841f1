package rules

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestActionOf(t *testing.T) {
	made := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web", UID: "u2", CreationTimestamp: metav1.NewTime(made)}}
	action := func(uid string, at time.Time) *computev1.ServerAction {
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: "t", CreationTimestamp: metav1.NewTime(at)},
			Spec: computev1.ServerActionSpec{ServerName: "web"}}
		if uid != "" {
			sa.Labels = map[string]string{computev1.LabelServerUID: uid}
		}
		return sa
	}
	for _, tc := range []struct {
		name string
		sa   *computev1.ServerAction
		want bool
	}{
		{"its uid", action("u2", made.Add(-time.Hour)), true},
		{"the uid of the server of that name before", action("u1", made.Add(time.Hour)), false},
		{"no uid, made after the server", action("", made.Add(time.Second)), true},
		{"no uid, made before the server", action("", made.Add(-time.Second)), false},
	} {
		if got := ActionOf(srv, tc.sa); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDeleteRecord(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web", UID: "u1",
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		Annotations: map[string]string{computev1.AnnotationUserID: "bob", computev1.AnnotationRequestID: "req-c",
			computev1.AnnotationDeleteRequestID: "req-d", computev1.AnnotationDeleteRequestedBy: "alice"}}}
	if got := DeleteRequestID(srv, "alice"); got != "req-d" {
		t.Errorf("alice's delete: %q", got)
	}
	if got := DeleteRequestID(srv, "bob"); got != "" {
		t.Errorf("bob's delete takes alice's request id %q", got)
	}
	r := DeleteRecord(srv, "bob", "")
	if !IsDeleteRecord(r) || r.Name != "web-delete-u1" || r.Spec.RequestedBy != "bob" || len(r.Spec.RequestID) != len("req-")+36 ||
		r.Labels[computev1.LabelServerUID] != "u1" || r.Annotations[computev1.AnnotationServerCreatedBy] != "bob" ||
		r.Annotations[computev1.AnnotationServerCreateRequestID] != "req-c" ||
		r.Annotations[computev1.AnnotationServerCreatedAt] != "2026-01-01T00:00:00Z" {
		t.Errorf("record %+v", r)
	}
	done := metav1.NewTime(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	r.CreationTimestamp = metav1.NewTime(done.Add(-time.Minute))
	if got := HistoryExpiry(r, time.Hour); !got.Equal(r.CreationTimestamp.Add(time.Hour)) {
		t.Errorf("expiry before the server is gone: %v", got)
	}
	r.Status.CompletionTime = &done
	if got := HistoryExpiry(r, time.Hour); !got.Equal(done.Add(time.Hour)) {
		t.Errorf("expiry once it is gone: %v", got)
	}
}
