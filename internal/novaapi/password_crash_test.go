package novaapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// errCrashed is what every write gets once the shim has "died".
var errCrashed = errors.New("nova-api was killed")

// crashAfter is a client whose process dies after n writes: the n-th lands, nothing later
// does.
func crashAfter(c client.WithWatch, n int) client.WithWatch {
	writes := 0
	write := func() error {
		if writes >= n {
			return errCrashed
		}
		writes++
		return nil
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if err := write(); err != nil {
				return err
			}
			return c.Create(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := write(); err != nil {
				return err
			}
			return c.Patch(ctx, obj, p, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if err := write(); err != nil {
				return err
			}
			return c.Update(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			if err := write(); err != nil {
				return err
			}
			return c.Delete(ctx, obj, opts...)
		},
	})
}

// A changePassword killed after any of its writes leaves no Secret that nothing owns: every
// Secret holding a password is owned by a ServerAction that exists, from its first write.
func TestChangePasswordCrashLeavesNoOrphanSecret(t *testing.T) {
	const whole = 100 // more writes than the request makes: no crash
	for _, n := range []int{0, 1, 2, 3, 4, 5, whole} {
		t.Run(fmt.Sprintf("killed after %d writes", n), func(t *testing.T) {
			e := newEnv(t, standard(server("srv-a", srvUID, base))...)
			e.h = New(Config{Client: crashAfter(e.c, n), Cache: e.c, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public})
			r := e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"changePassword": {"adminPass": "n3w-pass"}}`)
			if n == whole {
				// Enough writes for the whole request: it is answered, its Secret is there.
				r.expect(http.StatusAccepted)
			}

			actions := map[string]bool{}
			for _, sa := range e.serverActions() {
				actions[string(sa.UID)] = true
			}
			var secrets corev1.SecretList
			if err := e.c.List(context.Background(), &secrets, client.InNamespace(tenant)); err != nil {
				t.Fatal(err)
			}
			if n == whole && len(secrets.Items) != 1 {
				t.Fatalf("Secrets %v, want the one the password came in", secrets.Items)
			}
			for _, s := range secrets.Items {
				owned := false
				for _, ref := range s.OwnerReferences {
					owned = owned || ref.Kind == "ServerAction" && actions[string(ref.UID)]
				}
				if !owned {
					t.Errorf("Secret %s holds a password and is owned by no ServerAction (owners %v)", s.Name, s.OwnerReferences)
				}
			}
		})
	}
}
