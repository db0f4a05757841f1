package webhook

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
)

// watchCounted feeds seen from the informers of every replica (leader or not, as every
// replica admits) with the objects the object quotas count: server groups, security
// groups, floating IPs, keypairs, and the servers that join a group. A reservation of an object
// seen stored or deleted is over: this is what frees the place of a floating IP that the
// shim allocated and deleted again before any list showed it.
func watchCounted(ctx context.Context, mgr manager.Manager, seen *quota.Seen) error {
	kinds := map[client.Object]func(metav1.Object) bool{
		&computev1.ServerGroup{}:   nil,
		&computev1.SecurityGroup{}: nil,
		&computev1.FloatingIP{}:    nil,
		&computev1.Keypair{}:       nil,
		&computev1.Server{}: func(o metav1.Object) bool {
			srv, ok := o.(*computev1.Server)
			return ok && srv.Spec.ServerGroup != ""
		},
	}
	for obj, counted := range kinds {
		inf, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		of := func(o any) metav1.Object {
			if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			m, ok := o.(metav1.Object)
			if !ok || counted != nil && !counted(m) {
				return nil
			}
			return m
		}
		_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) {
				if m := of(o); m != nil {
					seen.Stored(string(m.GetUID()), m.GetGeneration())
				}
			},
			UpdateFunc: func(_, o any) {
				if m := of(o); m != nil {
					seen.Stored(string(m.GetUID()), m.GetGeneration())
				}
			},
			DeleteFunc: func(o any) {
				if m := of(o); m != nil {
					seen.Deleted(string(m.GetUID()))
				}
			},
		})
		if err != nil {
			return err
		}
	}
	return nil
}
