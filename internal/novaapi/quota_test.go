package novaapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// newEnvCreating is newEnv with its own Config (limits) and a hook on every Create: fail
// returns the error the n-th create (from 1) gets, or nil. Nothing is created past 200
// creates, so a create loop with no bound fails the test instead of running on.
func newEnvCreating(t *testing.T, cfg Config, fail func(n int64, obj client.Object) error, objs ...client.Object) *env {
	t.Helper()
	var creates atomic.Int64
	b := fake.NewClientBuilder().WithScheme(testScheme(t)).
		WithStatusSubresource(&computev1.Server{}, &computev1.ServerAction{}, &computev1.Image{},
			&computev1.Keypair{}, &computev1.Network{}).
		WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, ok := obj.(*computev1.Server); ok {
				n := creates.Add(1)
				if n > 200 {
					return fmt.Errorf("test stopped an unbounded create at server %d", n)
				}
				if fail != nil {
					if err := fail(n, obj); err != nil {
						return err
					}
				}
			}
			if obj.GetUID() == "" {
				obj.SetUID(types.UID(uuid.NewString()))
			}
			return c.Create(ctx, obj, opts...)
		}})
	for _, fi := range fieldIndexes() {
		b = b.WithIndex(fi.obj, fi.field, fi.fn)
	}
	c := b.Build()
	admins := &fakeAdmins{users: map[string]bool{"admin": true}}
	cfg.Client, cfg.Cache, cfg.ServerUIDs, cfg.Admins, cfg.PublicNamespace = c, c, listedUIDs{c}, admins, public
	return &env{t: t, c: c, h: New(cfg), admins: admins, user: "demo", root: root}
}

// existing are n ACTIVE servers of the demo tenant.
func existing(n int) []client.Object {
	var out []client.Object
	for i := range n {
		out = append(out, server(fmt.Sprintf("srv-old%d", i), uuid.NewString(), base))
	}
	return out
}

func (e *env) servers() []computev1.Server {
	e.t.Helper()
	var list computev1.ServerList
	if err := e.c.List(context.Background(), &list, client.InNamespace(tenant)); err != nil {
		e.t.Fatal(err)
	}
	return list.Items
}

// live are the servers not being deleted.
func (e *env) live() int {
	n := 0
	for _, s := range e.servers() {
		if s.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

func createBody(extra string) string {
	return `{"server": {"name": "q", "flavorRef": "1", "imageRef": "` + imageUID + `", "networks": "none"` + extra + `}}`
}

// TestMaxCountIsBoundedByTheInstanceQuota: one request with max_count 2147483647 once made
// 115 servers in 5 s. Nova bounds a create by the quotas (10 instances, 20 cores, 51200
// MiB by default): it makes as many as fit when min_count fits, and none, with its 403,
// when min_count does not. The messages are the nova-peer's (Zed), at 2.1 and at latest.
func TestMaxCountIsBoundedByTheInstanceQuota(t *testing.T) {
	for _, version := range []string{"2.37", "latest"} {
		t.Run(version, func(t *testing.T) {
			tests := []struct {
				name    string
				have    int
				extra   string
				created int
				msg     string
			}{
				{"max_count 2147483647 makes as many as the quota allows", 0, `, "max_count": 2147483647`, 10, ""},
				{"a count as a string past int64 too", 0, `, "max_count": "99999999999999999999"`, 10, ""},
				{"min_count fits, max_count does not", 8, `, "min_count": 2, "max_count": 20`, 2, ""},
				{"within the quota", 3, `, "max_count": 7`, 7, ""},
				{"min_count past the quota", 0, `, "min_count": 11`, 0,
					"Quota exceeded for instances: Requested 11, but already used 0 of 10 instances"},
				{"min_count past what is left", 8, `, "min_count": 3`, 0,
					"Quota exceeded for instances: Requested 3, but already used 8 of 10 instances"},
				{"a range past what is left", 8, `, "min_count": 3, "max_count": 5`, 0,
					"Quota exceeded for instances: Requested 3-5, but already used 8 of 10 instances"},
				{"nothing left", 10, `, "max_count": 5`, 0,
					"Quota exceeded for instances: Requested 1-5, but already used 10 of 10 instances"},
				{"a huge min_count is printed whole", 0, `, "min_count": "99999999999999999999"`, 0,
					"Quota exceeded for cores, instances, ram: Requested 99999999999999999999, 99999999999999999999, 51199999999999999999488, but already used 0, 0, 0 of 20, 10, 51200 cores, instances, ram"},
				{"a huge JSON integer too", 0, `, "min_count": 2147483648`, 0,
					"Quota exceeded for cores, instances, ram: Requested 2147483648, 2147483648, 1099511627776, but already used 0, 0, 0 of 20, 10, 51200 cores, instances, ram"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e := newEnvCreating(t, Config{}, nil, standard(existing(tt.have)...)...).as("demo", version)
					r := e.do(http.MethodPost, "/servers", createBody(tt.extra))
					if tt.msg != "" {
						r.expectFault(http.StatusForbidden, "forbidden", tt.msg)
					} else {
						r.expect(http.StatusAccepted)
					}
					if got := len(e.servers()) - tt.have; got != tt.created {
						t.Errorf("created %d servers, want %d", got, tt.created)
					}
				})
			}
		})
	}
}

// TestCountsNovaRefuses: the schema's answers for counts Nova will not read, never a
// silent 1 or an overflow.
func TestCountsNovaRefuses(t *testing.T) {
	e := newEnv(t, standard()...)
	for _, tt := range []struct{ extra, msg string }{
		{`, "max_count": 1e20`, "Invalid input for field/attribute max_count. Value: 1e+20. 1e+20 is not of type 'integer', 'string'"},
		{`, "min_count": 1e20`, "Invalid input for field/attribute min_count. Value: 1e+20. 1e+20 is not of type 'integer', 'string'"},
		{`, "max_count": 0`, "Invalid input for field/attribute max_count. Value: 0. 0 is less than the minimum of 1"},
		{`, "max_count": "0"`, "Invalid input for field/attribute max_count. Value: 0. 0 is less than the minimum of 1"},
		{`, "max_count": -1`, "Invalid input for field/attribute max_count. Value: -1. -1 is less than the minimum of 1"},
		{`, "max_count": "-1"`, "Invalid input for field/attribute max_count. Value: -1. '-1' does not match '^[0-9]*$'"},
		{`, "max_count": "abc"`, "Invalid input for field/attribute max_count. Value: abc. 'abc' does not match '^[0-9]*$'"},
		{`, "max_count": ""`, "Invalid input for field/attribute max_count. Value: . '' is too short"},
		{`, "max_count": 1.5`, "Invalid input for field/attribute max_count. Value: 1.5. 1.5 is not of type 'integer', 'string'"},
		{`, "max_count": true`, "Invalid input for field/attribute max_count. Value: True. True is not of type 'integer', 'string'"},
		{`, "max_count": null`, "Invalid input for field/attribute max_count. Value: None. None is not of type 'integer', 'string'"},
		{`, "min_count": 3, "max_count": 2`, "min_count must be <= max_count"},
		{`, "min_count": "99999999999999999999", "max_count": "99999999999999999998"`, "min_count must be <= max_count"},
	} {
		e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody(tt.extra)).expectFault(http.StatusBadRequest, "badRequest", tt.msg)
	}
	e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody(`, "max_count": "02"`)).expect(http.StatusAccepted)
	if n := len(e.servers()); n != 2 {
		t.Errorf("%d servers, want the 2 of max_count \"02\"", n)
	}
}

// TestMaxServersPerRequest: with a large quota, one request still makes at most the
// configured number; a min_count past it is refused.
func TestMaxServersPerRequest(t *testing.T) {
	unlimited := int64(-1)
	open := &computev1.QuotaClass{ObjectMeta: metav1.ObjectMeta{Name: computev1.QuotaName},
		Spec: computev1.QuotaLimits{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}}
	e := newEnvCreating(t, Config{MaxServersPerRequest: 4}, nil, standard(append(existing(50), open)...)...).as("demo", "2.37")
	e.do(http.MethodPost, "/servers", createBody(`, "max_count": 2147483647`)).expect(http.StatusAccepted)
	if n := len(e.servers()) - 50; n != 4 {
		t.Errorf("max_count 2147483647 made %d servers, want 4", n)
	}
	e.do(http.MethodPost, "/servers", createBody(`, "min_count": 5`)).expectFault(http.StatusForbidden, "forbidden",
		"Quota exceeded for instances: Requested 5, but at most 4 can be created in one request")
	if n := len(e.servers()) - 50; n != 4 {
		t.Errorf("%d servers after the refusal, want 4", n)
	}
}

// TestCreateIsAllOrNothing: when server k of n cannot be made, the ones made before it
// are deleted before the error is answered. The error is in Nova's words, not the API
// server's.
func TestCreateIsAllOrNothing(t *testing.T) {
	refusal := apierrors.NewInvalid(computev1.GroupVersion.WithKind("Server").GroupKind(), "srv-x", field.ErrorList{
		field.Invalid(field.NewPath("spec", "imageRef"), "cirros", "Image "+imageUID+" is not active.")})
	refusal.ErrStatus.Message = `admission webhook "vserver.compute.kova.dev" denied the request: ` + refusal.ErrStatus.Message
	third := func(n int64, _ client.Object) error {
		if n == 3 {
			return refusal
		}
		return nil
	}
	e := newEnvCreating(t, Config{}, third, standard()...).as("demo", "2.37")
	e.do(http.MethodPost, "/servers", createBody(`, "max_count": 5`)).expectFault(http.StatusBadRequest, "badRequest",
		"Image "+imageUID+" is not active.")
	if n := e.live(); n != 0 {
		t.Errorf("a failed create of 5 left %d servers", n)
	}
}

// TestKubernetesWordsNeverReachAClient: what the API server or a webhook refuses is said
// in Nova's words, without `Server.compute.kova.dev "srv-…" is invalid:`.
func TestKubernetesWordsNeverReachAClient(t *testing.T) {
	gk := computev1.GroupVersion.WithKind("Server").GroupKind()
	gr := computev1.GroupVersion.WithResource("servers").GroupResource()
	webhook := func(err *apierrors.StatusError) error {
		err.ErrStatus.Message = `admission webhook "vserver.compute.kova.dev" denied the request: ` + err.ErrStatus.Message
		return err
	}
	tests := []struct {
		name string
		err  error
		code int
		msg  string
	}{
		{"a webhook's field error carries Nova's message", webhook(apierrors.NewInvalid(gk, "srv-x", field.ErrorList{
			field.Invalid(field.NewPath("spec", "flavorRef"), "nope", "Flavor nope could not be found."),
			field.Invalid(field.NewPath("spec", "imageRef"), "x", "Image x could not be found.")})),
			400, "Flavor nope could not be found."},
		{"with a quoted value that has a colon", webhook(apierrors.NewInvalid(gk, "srv-x", field.ErrorList{
			field.Invalid(field.NewPath("spec", "keyName"), `a": b`, "Invalid key_name provided.")})),
			400, "Invalid key_name provided."},
		{"a webhook's Forbidden field error", webhook(apierrors.NewInvalid(gk, "srv-x", field.ErrorList{
			field.Forbidden(field.NewPath("spec", "locked"), "Policy doesn't allow os_compute_api:os-lock-server:lock to be performed.")})),
			400, "Policy doesn't allow os_compute_api:os-lock-server:lock to be performed."},
		{"a webhook's forbidden", webhook(apierrors.NewForbidden(gr, "srv-x", fmt.Errorf("Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."))),
			403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."},
		{"the CRD schema", apierrors.NewInvalid(gk, "srv-x", field.ErrorList{
			field.TooLong(field.NewPath("spec", "name"), "", 255)}),
			400, "Invalid input for field/attribute name. Too long: may not be more than 255 bytes"},
		{"RBAC", apierrors.NewForbidden(gr, "", fmt.Errorf(`User "system:serviceaccount:demo:observer" cannot create resource "servers" in API group "compute.kova.dev" in the namespace "demo"`)),
			403, "Policy doesn't allow servers:create to be performed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvCreating(t, Config{}, func(int64, client.Object) error { return tt.err }, standard()...).as("demo", "2.37")
			r := e.do(http.MethodPost, "/servers", createBody(""))
			r.expectFault(tt.code, faultName(tt.code), tt.msg)
			if strings.Contains(r.Body.String(), "compute.kova.dev") || strings.Contains(r.Body.String(), "srv-x") {
				t.Errorf("Kubernetes' words in %s", r.Body.String())
			}
		})
	}
}

// TestLimitsShowTheQuotas: GET /limits says the quotas a create is held to (the tenant's
// Quota over the class's over Nova's) and what the tenant's servers hold.
func TestLimitsShowTheQuotas(t *testing.T) {
	ptr := func(v int64) *int64 { return &v }
	for _, tt := range []struct {
		class, tenant    *int64
		instances, cores float64
	}{
		{nil, nil, 10, 20},
		{ptr(50), nil, 50, 20},
		{ptr(50), ptr(25), 25, 20},
		{nil, ptr(-1), -1, 20},
	} {
		objs := existing(3)
		if tt.class != nil {
			objs = append(objs, &computev1.QuotaClass{ObjectMeta: metav1.ObjectMeta{Name: computev1.QuotaName},
				Spec: computev1.QuotaLimits{Instances: tt.class}})
		}
		if tt.tenant != nil {
			objs = append(objs, &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: computev1.QuotaName},
				Spec: computev1.QuotaLimits{Instances: tt.tenant}})
		}
		e := newEnvCreating(t, Config{}, nil, standard(objs...)...)
		abs := e.do(http.MethodGet, "/limits", "").expect(http.StatusOK).object()["limits"].(map[string]any)["absolute"].(map[string]any)
		if abs["maxTotalInstances"] != tt.instances || abs["maxTotalCores"] != tt.cores || abs["totalInstancesUsed"] != float64(3) ||
			abs["totalCoresUsed"] != float64(3) || abs["totalRAMUsed"] != float64(3*512) {
			t.Errorf("class %v tenant %v: %v", tt.class, tt.tenant, abs)
		}
	}
}
