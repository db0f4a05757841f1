package novaapi

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// internedReader reads as nova-api's informer cache does: everything it returns went
// through nova-api's cache transform (CacheTransform), with one set of tables for all.
type internedReader struct {
	client.Reader
	transform toolscache.TransformFunc
}

func (r internedReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := r.Reader.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	_, err := r.transform(obj)
	return err
}

func (r internedReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := r.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	return meta.EachListItem(list, func(o runtime.Object) error {
		_, err := r.transform(o)
		return err
	})
}

// The views read interned servers (without their conditions), flavors, images, networks and
// keypairs exactly as they read their own copies: every answer is the same, byte for byte.
func TestViewsOfInternedObjectsAreTheSame(t *testing.T) {
	plain := newEnv(t, viewFleet()...)
	interned := *plain
	interned.h = New(Config{Client: plain.c, Cache: internedReader{Reader: plain.c, transform: CacheTransform()}, ServerUIDs: listedUIDs{plain.c},
		Admins: plain.admins, PublicNamespace: public})

	paths := []string{
		"/servers", "/servers/detail", "/servers/detail?status=ERROR", "/servers/detail?sort_key=display_name&sort_dir=asc",
		"/servers/detail?limit=2", "/servers/detail?tags=web", "/servers/detail?name=peer-s",
		"/servers/" + srvUID, "/servers/" + srvUID + "/ips", "/servers/" + srvUID + "/metadata",
		"/servers/" + srvUID + "/os-interface", "/servers/" + srvUID + "/os-instance-actions",
		"/servers/c0ebacfb-0000-42f9-bbb2-000000000002", "/servers/c0ebacfb-0000-42f9-bbb2-000000000003",
		"/flavors/detail", "/images/detail", "/os-keypairs", "/os-networks", "/limits", "/os-availability-zone/detail",
	}
	for _, who := range []struct{ user, version string }{{"demo", "2.1"}, {"demo", "2.79"}, {"admin", "2.79"}, {"admin", "2.47"}} {
		for _, p := range paths {
			want := plain.as(who.user, who.version).do(http.MethodGet, p, "")
			got := interned.as(who.user, who.version).do(http.MethodGet, p, "")
			if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Errorf("%s %s as %s: interned answer differs:\n got %d %s\nwant %d %s", p, who.version, who.user,
					got.Code, got.Body, want.Code, want.Body)
			}
		}
	}
	// The comparison is about servers that are there.
	body := plain.as("admin", "2.79").do(http.MethodGet, "/servers/detail", "").expect(http.StatusOK).Body.String()
	for _, s := range []string{srvUID, "10.0.0.4", "No valid host was found.", `"role": "web"`} {
		if !strings.Contains(body, s) {
			t.Fatalf("the fleet's detail list lacks %q: %s", s, body)
		}
	}
}

// viewFleet is the standard world and servers of every shape the views show: active with
// an address, metadata and tags, failed with a fault, stopped in a task.
func viewFleet() []client.Object {
	a := server("s1", srvUID, base)
	a.Labels = map[string]string{computev1.LabelCreated1s: "1795000000"}
	a.Spec.Tags = []string{"web"}
	a.Spec.Metadata = map[string]string{"role": "web"}
	a.Status.Addresses = []computev1.ServerAddress{{Network: "private", Address: "10.0.0.4", Version: 4, MACAddress: "fa:16:3e:00:00:01", Type: "fixed", NetworkNamespace: tenant, NetworkName: "net1"}}
	a.Status.Networks = "private=10.0.0.4"
	a.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Active", Message: "ok", LastTransitionTime: metav1.NewTime(base)}}
	b := inState(server("s2", "c0ebacfb-0000-42f9-bbb2-000000000002", base.Add(time.Second)), lifecycle.VMError, "", lifecycle.PowerNoState)
	b.Labels = map[string]string{computev1.LabelCreated1s: "1795000000"}
	b.Status.Fault = &computev1.ServerFault{Code: 500, Message: "No valid host was found.", Details: "trace", Created: metav1.NewTime(base)}
	c := inState(server("s3", "c0ebacfb-0000-42f9-bbb2-000000000003", base.Add(2*time.Second)), lifecycle.VMStopped, lifecycle.TaskPoweringOn, lifecycle.PowerShutdown)
	c.Spec.Metadata = map[string]string{"role": "web"}
	return standard(a, b, c)
}

// nova-api's cache keeps no Server's conditions, and every other kind's as it comes.
func TestCacheTransformDropsOnlyServerConditions(t *testing.T) {
	cond := []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Active", LastTransitionTime: metav1.NewTime(base)}}
	srv := server("s1", srvUID, base)
	srv.Status.Conditions = cond
	img := &computev1.Image{Status: computev1.ImageStatus{Conditions: cond}}
	transform := CacheTransform()
	for _, o := range []any{srv, img} {
		if _, err := transform(o); err != nil {
			t.Fatal(err)
		}
	}
	if srv.Status.Conditions != nil {
		t.Errorf("a cached server keeps its conditions: %v", srv.Status.Conditions)
	}
	if len(img.Status.Conditions) != 1 {
		t.Errorf("a cached image lost its conditions: %v", img.Status.Conditions)
	}
}
