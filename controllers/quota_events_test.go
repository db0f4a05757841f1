package controllers

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
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
