package refs_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/testenv"
)

func TestResolveFindsWhatOnlyTheAPIServerHasSeen(t *testing.T) {
	scheme := testenv.Scheme()
	network := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "private"},
		Spec: computev1.NetworkSpec{CIDR: "10.0.0.0/24"}}
	cache := fake.NewClientBuilder().WithScheme(scheme).Build() // a moment behind: no network yet
	live := fake.NewClientBuilder().WithScheme(scheme).WithObjects(network).Build()
	ctx := context.Background()
	lookup := func(name string, calls *int) func(client.Reader) error {
		return func(c client.Reader) error {
			*calls++
			_, err := refs.Network(ctx, c, "tenant", "kova-public", name)
			return err
		}
	}

	var calls int
	if err := refs.Resolve(cache, live, lookup("private", &calls)); err != nil || calls != 2 {
		t.Fatalf("a network the cache has not seen yet: err %v after %d lookups, want found after 2", err, calls)
	}
	calls = 0
	if err := refs.Resolve(live, cache, lookup("private", &calls)); err != nil || calls != 1 {
		t.Fatalf("a network the cache has: err %v after %d lookups, want found after 1", err, calls)
	}
	calls = 0
	err := refs.Resolve(cache, live, lookup("public", &calls))
	if !refs.IsNotFound(err) || err.Error() != "Network public could not be found." || calls != 2 {
		t.Fatalf("a network nobody has: err %v after %d lookups, want Nova's not found after 2", err, calls)
	}
	calls = 0
	if err := refs.Resolve(cache, nil, lookup("private", &calls)); !refs.IsNotFound(err) || calls != 1 {
		t.Fatalf("no live reader: err %v after %d lookups, want not found after 1", err, calls)
	}
}
