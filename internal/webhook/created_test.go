package webhook

import (
	"context"
	"encoding/json"
	"maps"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// TestCreatedLabelsStamped: a server is labelled with the time it is made, whatever the
// request said.
func TestCreatedLabelsStamped(t *testing.T) {
	at := time.Unix(1764558123, 0)
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{
		computev1.LabelCreated1s: "42", "app": "web"}}}
	if err := (ServerDefaulter{Now: func() time.Time { return at }}).Default(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	for k, v := range rules.CreatedLabels(at) {
		if srv.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, srv.Labels[k], v)
		}
	}
	if srv.Labels["app"] != "web" {
		t.Errorf("the request's own label is gone: %v", srv.Labels)
	}
}

// TestCreatedLabelsKept: an update may not move a server to another creation bucket, nor
// give one to a server without. One that takes them away (a replace with its manifest) is
// not refused: the defaulter has put them back before (TestCreatedLabelsPutBack).
func TestCreatedLabelsKept(t *testing.T) {
	stamped := rules.CreatedLabels(time.Unix(1764558123, 0))
	with := func(l map[string]string) *computev1.Server {
		return &computev1.Server{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: l}}
	}
	moved := map[string]string{}
	for k, v := range stamped {
		moved[k] = v
	}
	moved[computev1.LabelCreated1s] = "1764558130"
	for _, c := range []struct {
		name     string
		old, new map[string]string
		refused  bool
	}{
		{"unchanged", stamped, stamped, false},
		{"taken away", stamped, map[string]string{"app": "web"}, false},
		{"moved", stamped, moved, true},
		{"given to a server without", nil, stamped, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkCreatedLabels(with(c.old), with(c.new))
			if c.refused != (err != nil) || err != nil && !apierrors.IsInvalid(err) {
				t.Errorf("error %v, want refused %v", err, c.refused)
			}
		})
	}
}

// TestCreatedLabelsPutBack: an update that takes creation-time labels away gets them back,
// with the values the server had; nothing else of the update changes, and the defaulter
// adds nothing it adds to a server being made.
func TestCreatedLabelsPutBack(t *testing.T) {
	stamped := rules.CreatedLabels(time.Unix(1764558123, 0))
	was := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}}}
	maps.Copy(was.Labels, stamped)
	raw, err := json.Marshal(was)
	if err != nil {
		t.Fatal(err)
	}
	ctx := admission.NewContextWithRequest(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		Operation: admissionv1.Update, OldObject: runtime.RawExtension{Raw: raw},
		UserInfo: authenticationv1.UserInfo{Username: "eve"}}})
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{
		computev1.LabelCreated1s: stamped[computev1.LabelCreated1s], "tier": "front"}}}
	if err := (ServerDefaulter{Now: func() time.Time { return time.Unix(1900000000, 0) }}).Default(ctx, srv); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tier": "front"}
	maps.Copy(want, stamped)
	if !maps.Equal(srv.Labels, want) {
		t.Errorf("labels after the update %v, want %v", srv.Labels, want)
	}
	if len(srv.Finalizers) != 0 || srv.Annotations[computev1.AnnotationUserID] != "" {
		t.Errorf("an update got the finalizer %v or a creator %q", srv.Finalizers, srv.Annotations[computev1.AnnotationUserID])
	}
}
