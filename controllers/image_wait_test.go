package controllers

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// An image's change wakes the servers that wait to build from it, its tenant's and those of
// tenants it is shared with, and no server that has begun to build: those are not in the
// index at all.
func TestImageWakesOnlyServersWaitingForIt(t *testing.T) {
	srv := func(ns, name, image string, vm lifecycle.VMState, op bool) *computev1.Server {
		s := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: computev1.ServerSpec{ImageRef: image}}
		s.Status.VMState = string(vm)
		if op {
			s.Status.Operation = &computev1.ServerOperation{}
		}
		return s
	}
	objs := []client.Object{
		srv("t1", "new", "img", "", false),                          // not seen by the controller yet
		srv("t1", "scheduling", "img", lifecycle.VMBuilding, false), // waits in BUILD/scheduling
		srv("t1", "spawning", "img", lifecycle.VMBuilding, true),    // its spawn has begun
		srv("t1", "active", "img", lifecycle.VMActive, false),
		srv("t1", "other-image", "img2", "", false),
		srv("t2", "shared", "t1/img", lifecycle.VMBuilding, false), // another tenant's, by namespace/name
		srv("t2", "own", "img", "", false),                         // t2's own image of that name
	}
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&computev1.Server{}, IndexServerImage, imageWaitedFor).Build()
	r := &ServerReconciler{Client: c, PublicNamespace: "public"}

	var got []string
	for _, req := range r.serversWaitingFor(context.Background(), &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "img"}}) {
		got = append(got, req.String())
	}
	slices.Sort(got)
	if want := []string{"t1/new", "t1/scheduling", "t2/shared"}; !slices.Equal(got, want) {
		t.Errorf("woken: %v, want %v", got, want)
	}
	if v := imageWaitedFor(objs[3]); v != nil {
		t.Errorf("an ACTIVE server is indexed under %v", v)
	}
}
