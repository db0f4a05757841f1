package controllers

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A Quota's status written (admission's reservation, once a boot) is counted a batch later,
// so a burst of boots shares one count; its limits changed are counted at once.
func TestQuotaCountBatchesStatusWrites(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	h := quotaChanges()
	old := &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: computev1.QuotaName, Generation: 1}}
	reserved := old.DeepCopy()
	reserved.Status.Reservations = []computev1.QuotaReservation{{UID: "u-1"}}

	start := time.Now()
	for range 50 {
		h.Update(context.Background(), event.UpdateEvent{ObjectOld: old, ObjectNew: reserved}, q)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("%d counts queued at once after status writes, want 0 (a batch later)", n)
	}
	got := make(chan reconcile.Request)
	go func() {
		req, _ := q.Get()
		got <- req
	}()
	select {
	case req := <-got:
		if took := time.Since(start); took < quotaCountBatch/2 {
			t.Errorf("counted %v after the first status write, want about %v", took, quotaCountBatch)
		}
		if req.Namespace != "t" || req.Name != computev1.QuotaName {
			t.Errorf("counted %v", req)
		}
		q.Done(req)
	case <-time.After(10 * quotaCountBatch):
		t.Fatal("no count after the status writes")
	}
	if n := q.Len(); n != 0 {
		t.Errorf("%d more counts queued for 50 status writes, want 1 count in all", n)
	}

	limited := old.DeepCopy()
	limited.Generation = 2
	h.Update(context.Background(), event.UpdateEvent{ObjectOld: old, ObjectNew: limited}, q)
	if n := q.Len(); n != 1 {
		t.Errorf("%d counts queued at once after the limits changed, want 1", n)
	}
}

// A count whose status write finds the Quota written since it was read (a reservation)
// ends without an error: that write queued the next count (the test above), and an error
// would be logged with its stack and backed off from, for what optimistic locking is for.
func TestQuotaCountConflictIsNoError(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	q := &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: computev1.QuotaName}}
	conflicts := 0
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(q).WithStatusSubresource(q).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if conflicts == 0 {
				conflicts++
				return apierrors.NewConflict(computev1.GroupVersion.WithResource("quotas").GroupResource(), obj.GetName(), errors.New("the object has been modified"))
			}
			return c.SubResource(sub).Update(ctx, obj, opts...)
		}}).Build()
	r := &QuotaReconciler{Client: c, APIReader: c}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(q)}
	if _, err := r.Reconcile(context.Background(), req); err != nil || conflicts != 1 {
		t.Fatalf("a count that met a conflict: %v (%d conflicts), want no error", err, conflicts)
	}
	// The next count writes.
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	got := &computev1.Quota{}
	if err := c.Get(context.Background(), req.NamespacedName, got); err != nil || got.Status.ObservedTime == nil {
		t.Errorf("the count after the conflict wrote no status: %v %+v", err, got.Status)
	}
	// Other errors are still errors.
	failing := &QuotaReconciler{Client: fake.NewClientBuilder().WithScheme(scheme).WithObjects(q.DeepCopy()).WithStatusSubresource(q).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
			return apierrors.NewServiceUnavailable("etcd is down")
		}}).Build()}
	if _, err := failing.Reconcile(context.Background(), req); err == nil {
		t.Error("a count whose write failed otherwise says no error")
	}
}
