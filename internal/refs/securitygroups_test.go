package refs_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/testenv"
)

// The groups a boot's names are judged against: the cache's when it finds exactly one group
// for every name, the API server's when it finds none (made a moment ago) or several.
func TestSecurityGroupsForReadsPastTheCacheUnlessItFindsExactlyOne(t *testing.T) {
	scheme := testenv.Scheme()
	group := func(name, display string) *computev1.SecurityGroup {
		return &computev1.SecurityGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: name},
			Spec: computev1.SecurityGroupSpec{Name: display}}
	}
	build := func(objs ...client.Object) client.Reader {
		return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	}
	// The cache is a moment behind: web is not in it yet, and a second "db" was made since.
	cache := build(group("default", "default"), group("db-1", "db"))
	live := build(group("default", "default"), group("db-1", "db"), group("db-2", "db"), group("web-1", "web"))
	ctx := context.Background()
	for _, c := range []struct {
		names []string
		want  int // groups named the last name among those returned
	}{
		{[]string{"default"}, 1},        // the cache's: exactly one
		{[]string{"web"}, 1},            // not cached yet: the API server's
		{[]string{"default", "web"}, 1}, // one name not cached: the API server's for all
		{[]string{"db"}, 1},             // the cache finds one: its answer stands (the webhook's too)
	} {
		groups, err := refs.SecurityGroupsFor(ctx, cache, live, "tenant", c.names)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(rules.SecurityGroupsNamed(groups, c.names[len(c.names)-1])); got != c.want {
			t.Errorf("%v: %d groups named %s, want %d", c.names, got, c.names[len(c.names)-1], c.want)
		}
	}
	// Two cached groups of one name: judged on the API server's, where one of them is gone.
	cache = build(group("db-1", "db"), group("db-2", "db"))
	live = build(group("db-2", "db"))
	groups, err := refs.SecurityGroupsFor(ctx, cache, live, "tenant", []string{"db"})
	if err != nil {
		t.Fatal(err)
	}
	if found := rules.SecurityGroupsNamed(groups, "db"); len(found) != 1 || found[0].Name != "db-2" {
		t.Errorf("two cached groups named db, one gone since: found %d, want db-2 alone", len(found))
	}
}
