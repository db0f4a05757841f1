package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// After a watch is broken and listed again, the Server cache can be ahead of the
// ServerAction cache: the server shows a reboot finished (ACTIVE, no task, no operation)
// while the cached reboot is still Running, which is also how a started action whose
// status write was lost looks. The action is read past the cache before it is taken up, so
// a reboot a client has seen done is not carried out a second time; one the API server
// still has pending starts.
func TestStaleCachedActionIsNotStartedAgain(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	created := metav1.NewTime(time.Now().Add(-time.Minute))
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web", UID: "u-web", CreationTimestamp: created}}
	srv.Status.LaunchedAt = &created
	srv.Status.VMState, srv.Status.PowerState = string(lifecycle.VMActive), 1
	action := func(phase computev1.ActionPhase) *computev1.ServerAction {
		return &computev1.ServerAction{
			ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "web-reboot", CreationTimestamp: metav1.Now(), ResourceVersion: "7"},
			Spec: computev1.ServerActionSpec{ServerName: "web", Action: computev1.ActionReboot,
				Reboot: &computev1.RebootParams{Type: "SOFT"}},
			Status: computev1.ServerActionStatus{Phase: phase},
		}
	}
	build := func(sa *computev1.ServerAction) client.Client {
		return fake.NewClientBuilder().WithScheme(scheme).WithObjects(sa).WithStatusSubresource(sa).
			WithIndex(&computev1.ServerAction{}, IndexServerName, func(o client.Object) []string {
				return []string{o.(*computev1.ServerAction).Spec.ServerName}
			}).Build()
	}
	for _, tc := range []struct {
		name    string
		live    computev1.ActionPhase
		started bool
	}{
		{"finished on the API server", computev1.ActionSucceeded, false},
		{"running on the API server, its status write lost", computev1.ActionRunning, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cached := build(action(computev1.ActionRunning))
			r := &ServerReconciler{Client: cached, APIReader: build(action(tc.live)), Scheme: scheme}
			s := srv.DeepCopy()
			taken, _, err := r.startNextAction(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			started := taken != nil
			if started != tc.started || (s.Status.Operation != nil) != tc.started {
				t.Fatalf("started %v, operation %+v; want started %v", started, s.Status.Operation, tc.started)
			}
			if !tc.started && s.Status.TaskState != "" {
				t.Fatalf("task %q shown for an action already finished", s.Status.TaskState)
			}
		})
	}
}
