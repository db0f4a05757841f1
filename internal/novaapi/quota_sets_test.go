package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// The nova-peer's (Zed) answers for a project with Nova's defaults.
const (
	peerQuotaSet21     = `{"quota_set": {"id": "demo", "cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1, "server_group_members": 10, "server_groups": 10}}`
	peerQuotaSet236    = `{"quota_set": {"id": "demo", "cores": 20, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "server_group_members": 10, "server_groups": 10}}`
	peerQuotaSetLatest = `{"quota_set": {"id": "demo", "cores": 20, "instances": 10, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "server_group_members": 10, "server_groups": 10}}`
	peerDetailLatest   = `{"quota_set": {"id": "demo", "cores": {"limit": 20, "in_use": 2, "reserved": 0}, "instances": {"limit": 10, "in_use": 2, "reserved": 0}, "key_pairs": {"limit": 100, "in_use": 0, "reserved": 0}, "metadata_items": {"limit": 128, "in_use": 0, "reserved": 0}, "ram": {"limit": 51200, "in_use": 1024, "reserved": 0}, "server_group_members": {"limit": 10, "in_use": 0, "reserved": 0}, "server_groups": {"limit": 10, "in_use": 0, "reserved": 0}}}`
)

// enforced is a peer's answer with the network quotas Kova enforces (Neutron's defaults,
// floatingip 50, security_group 10, security_group_rule 100) where Nova, leaving them to
// Neutron, shows -1: Kova shows through Nova and Neutron alike the number it enforces.
func enforced(peer string) string {
	return strings.NewReplacer(`"floating_ips": -1`, `"floating_ips": 50`, `"security_groups": -1`, `"security_groups": 10`,
		`"security_group_rules": -1`, `"security_group_rules": 100`).Replace(peer)
}

func expectJSON(t *testing.T, r *response, want string) {
	t.Helper()
	var got, w any
	if err := json.Unmarshal(r.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body.String())
	}
	_ = json.Unmarshal([]byte(want), &w)
	g, _ := json.Marshal(got)
	ww, _ := json.Marshal(w)
	if string(g) != string(ww) {
		t.Errorf("body\n got  %s\n want %s", g, ww)
	}
}

// TestQuotaSetsShowAsNovaDoes: show, defaults and detail in the peer's shapes at each
// microversion, to the tenant; another tenant's only to the cloud operator.
func TestQuotaSetsShowAsNovaDoes(t *testing.T) {
	e := newEnv(t, standard(existing(2)...)...)
	for v, want := range map[string]string{"2.1": enforced(peerQuotaSet21), "2.35": enforced(peerQuotaSet21), "2.36": peerQuotaSet236, "latest": peerQuotaSetLatest} {
		expectJSON(t, e.as("demo", v).do(http.MethodGet, "/os-quota-sets/demo", "").expect(200), want)
		expectJSON(t, e.as("demo", v).do(http.MethodGet, "/os-quota-sets/demo/defaults", "").expect(200), want)
	}
	expectJSON(t, e.as("demo", "latest").do(http.MethodGet, "/os-quota-sets/demo/detail", "").expect(200), peerDetailLatest)
	e.do(http.MethodGet, "/os-quota-sets/other", "").expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.")
	e.do(http.MethodGet, "/os-quota-sets/other/detail", "").expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:detail to be performed.")
	e.as("admin", "").do(http.MethodGet, "/os-quota-sets/other", "").expect(200)
}

// TestQuotaSetsUpdateByTheOperatorOnly: a tenant's own admin gets Nova's policy 403 and
// nothing changes; the cloud operator's update is stored in the tenant's Quota, shown, and
// held to by the next create; a delete takes the tenant back to the defaults.
func TestQuotaSetsUpdateByTheOperatorOnly(t *testing.T) {
	e := newEnvCreating(t, Config{}, nil, standard(existing(1)...)...)
	e.do(http.MethodPut, "/os-quota-sets/demo", `{"quota_set": {"instances": 1}}`).
		expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
	e.do(http.MethodDelete, "/os-quota-sets/demo", "").
		expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.")
	var q computev1.Quota
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: computev1.QuotaName}, &q); err == nil {
		t.Fatalf("a refused update made a Quota: %+v", q.Spec)
	}

	op := e.as("admin", "2.1")
	expectJSON(t, op.do(http.MethodPut, "/os-quota-sets/demo", `{"quota_set": {"instances": 1, "cores": "2"}}`).expect(200),
		enforced(`{"quota_set": {"cores": 2, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "injected_files": 5, "instances": 1, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1, "server_group_members": 10, "server_groups": 10}}`))
	expectJSON(t, op.as("admin", "latest").do(http.MethodPut, "/os-quota-sets/demo", `{"quota_set": {"ram": 4096}}`).expect(200),
		`{"quota_set": {"cores": 2, "instances": 1, "key_pairs": 100, "metadata_items": 128, "ram": 4096, "server_group_members": 10, "server_groups": 10}}`)
	e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody("")).expectFault(403, "forbidden",
		"Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
	if n := len(e.servers()); n != 1 {
		t.Errorf("%d servers after the refusal, want 1", n)
	}
	abs := e.do(http.MethodGet, "/limits", "").expect(200).object()["limits"].(map[string]any)["absolute"].(map[string]any)
	if abs["maxTotalInstances"] != float64(1) || abs["maxTotalCores"] != float64(2) || abs["maxTotalRAMSize"] != float64(4096) {
		t.Errorf("limits after the update: %v", abs)
	}

	op.do(http.MethodDelete, "/os-quota-sets/demo", "").expect(202)
	expectJSON(t, e.as("demo", "latest").do(http.MethodGet, "/os-quota-sets/demo", "").expect(200), peerQuotaSetLatest)
	e.as("demo", "2.37").do(http.MethodPost, "/servers", createBody("")).expect(202)
}

// TestQuotaSetsRefuseWhatNovaRefuses: the peer's 400s for bad quota values.
func TestQuotaSetsRefuseWhatNovaRefuses(t *testing.T) {
	op := newEnv(t, standard()...).as("admin", "2.1")
	for body, msg := range map[string]string{
		`{"quota_set": {"instances": -2}}`:    "Invalid input for field/attribute instances. Value: -2. -2 is less than the minimum of -1",
		`{"quota_set": {"bogus": 1}}`:         "Invalid input for field/attribute quota_set. Value: {'bogus': 1}. Additional properties are not allowed ('bogus' was unexpected)",
		`{"quota_set": {"instances": "abc"}}`: "Invalid input for field/attribute instances. Value: abc. 'abc' does not match '^-?[0-9]+$'",
	} {
		op.do(http.MethodPut, "/os-quota-sets/demo", body).expectFault(400, "badRequest", msg)
	}
	op.as("admin", "latest").do(http.MethodPut, "/os-quota-sets/demo", `{"quota_set": {"floating_ips": 1}}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute quota_set. Value: {'floating_ips': 1}. Additional properties are not allowed ('floating_ips' was unexpected)")
	op.do(http.MethodPut, "/os-quota-sets/demo", `{"quota_set": {"instances": "7", "force": true}}`).expect(200)
}

// TestQuotaClassesAsNovaDoes: the class "default" in the peer's shapes, for the cloud
// operator only; its update is the QuotaClass every tenant without its own value uses.
func TestQuotaClassesAsNovaDoes(t *testing.T) {
	e := newEnv(t, standard()...)
	op := e.as("admin", "2.1")
	expectJSON(t, op.do(http.MethodGet, "/os-quota-class-sets/default", "").expect(200),
		enforced(`{"quota_class_set": {"id": "default", "cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "security_group_rules": -1, "security_groups": -1}}`))
	expectJSON(t, op.as("admin", "2.50").do(http.MethodGet, "/os-quota-class-sets/default", "").expect(200),
		`{"quota_class_set": {"id": "default", "cores": 20, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "server_group_members": 10, "server_groups": 10}}`)
	e.do(http.MethodGet, "/os-quota-class-sets/default", "").expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed.")
	e.do(http.MethodPut, "/os-quota-class-sets/default", `{"quota_class_set": {"instances": 12}}`).
		expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-class-sets:update to be performed.")

	expectJSON(t, op.as("admin", "latest").do(http.MethodPut, "/os-quota-class-sets/default", `{"quota_class_set": {"instances": 12}}`).expect(200),
		`{"quota_class_set": {"cores": 20, "instances": 12, "key_pairs": 100, "metadata_items": 128, "ram": 51200, "server_group_members": 10, "server_groups": 10}}`)
	op.do(http.MethodPut, "/os-quota-class-sets/default", `{"quota_class_set": {"instances": 12, "force": true}}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute quota_class_set. Value: {'instances': 12, 'force': True}. Additional properties are not allowed ('force' was unexpected)")
	if got := e.as("demo", "latest").do(http.MethodGet, "/os-quota-sets/demo", "").expect(200).object()["quota_set"].(map[string]any)["instances"]; got != float64(12) {
		t.Errorf("a tenant's instances after the class update: %v, want 12", got)
	}
}
