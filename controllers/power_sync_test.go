package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The periodic power sync queues every server at low priority: a server a user acts on
// while a sweep of the whole fleet waits is reconciled first.
func TestPowerSyncSweepQueuesBehindUsers(t *testing.T) {
	q := priorityqueue.New[reconcile.Request]("power-sync-test")
	defer q.ShutDown()
	enqueueLow(q, []types.NamespacedName{{Namespace: "t", Name: "a"}, {Namespace: "t", Name: "b"}})
	user := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "t", Name: "stopped-by-a-user"}}
	q.Add(user)

	got, priority, _ := q.GetWithPriority()
	if got != user {
		t.Fatalf("first reconciled: %v (priority %d), want the user's %v", got, priority, user)
	}
	q.Done(got)
	for range 2 {
		got, priority, _ = q.GetWithPriority()
		if priority != handler.LowPriority {
			t.Errorf("swept %v at priority %d, want %d", got, priority, handler.LowPriority)
		}
		q.Done(got)
	}
	if n := q.Len(); n != 0 {
		t.Errorf("%d requests left, want 0", n)
	}
}
