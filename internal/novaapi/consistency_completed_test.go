package novaapi

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// TestShowOfAnEndedActionReadsTheServerOnly: a server whose status records the action it
// was last asked for as completed (status.completedActions) is shown as that status says,
// though this replica's cache still has the action pending, with one GET (the server) and
// none of the action or of the server again; the same for a list's page.
func TestShowOfAnEndedActionReadsTheServerOnly(t *testing.T) {
	const actionUID = "5d0f3f7e-0d51-4c3e-9d2a-6b7c0f0e1a11"
	for _, way := range []string{"show", "list"} {
		srv := inState(server("srv-a", srvUID, base), lifecycle.VMStopped, "", lifecycle.PowerShutdown)
		srv.Annotations[annPendingAction] = "srv-a-stop"
		srv.Status.CompletedActions = []computev1.CompletedAction{{UID: actionUID, Phase: computev1.ActionSucceeded}}
		// The action's outcome is written after the server's status: the API server may not
		// have it yet, and the cache has the action as it was made.
		objs := standard(srv, &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "srv-a-stop", UID: actionUID,
			CreationTimestamp: metav1.NewTime(base.Add(time.Hour))},
			Spec: computev1.ServerActionSpec{ServerName: "srv-a", Action: computev1.ActionStop}})
		e := newLaggingEnv(t, objs...)
		gets := map[string]int{}
		counting := interceptor.NewClient(e.c, interceptor.Funcs{Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			switch obj.(type) {
			case *computev1.Server:
				gets["server"]++
			case *computev1.ServerAction:
				gets["action"]++
			}
			return cl.Get(ctx, key, obj, opts...)
		}})
		e.h = New(Config{Client: counting, Cache: snapshotOf(t, objs), Admins: e.admins, PublicNamespace: public})
		var s map[string]any
		if way == "show" {
			s = showServer(t, e, srvUID)
		} else {
			s = detailOf(t, e, srvUID)
		}
		if s["status"] != "SHUTOFF" || task(s) != nil {
			t.Errorf("%s: status %v task %v, want SHUTOFF with no task", way, s["status"], task(s))
		}
		want := map[string]int{"server": 1}
		if way == "list" {
			want = map[string]int{} // the cached copy is current: the page's check says so
		}
		if gets["server"] != want["server"] || gets["action"] != 0 {
			t.Errorf("%s: read the server %d times and the action %d times, want %d and 0", way, gets["server"], gets["action"], want["server"])
		}
	}
}
