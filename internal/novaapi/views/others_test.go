package views

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/microversion"
	"github.com/kova-dev/kova/internal/quota"
)

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLimitsByMicroversion: Nova's defaults as the nova-peer shows them
// (samples/limits.json at 2.1), but for the network limits, which the peer shows as -1 (its
// network service decides) and Kova enforces itself, at Neutron's defaults (50 floating
// IPs, 10 security groups, 100 rules); and the fields each microversion drops.
func TestLimitsByMicroversion(t *testing.T) {
	l := quota.Effective(nil, nil)
	used := quota.Usage{Instances: 2, Cores: 3, RAM: 1024}
	common := `"maxServerMeta":128,"maxTotalCores":20,"maxTotalInstances":10,"maxTotalKeypairs":100,"maxTotalRAMSize":51200,` +
		`"maxServerGroups":10,"maxServerGroupMembers":10,"totalCoresUsed":3,"totalInstancesUsed":2,"totalRAMUsed":1024,"totalServerGroupsUsed":0`
	tests := map[int]string{
		1:  common + `,"maxSecurityGroups":10,"maxSecurityGroupRules":100,"maxTotalFloatingIps":50,"totalFloatingIpsUsed":0,"totalSecurityGroupsUsed":0,"maxImageMeta":128,"maxPersonality":5,"maxPersonalitySize":10240`,
		36: common + `,"maxImageMeta":128,"maxPersonality":5,"maxPersonalitySize":10240`,
		39: common + `,"maxPersonality":5,"maxPersonalitySize":10240`,
		57: common,
	}
	for v, abs := range tests {
		want := `{"absolute":{` + abs + `},"rate":[]}`
		if got := asJSON(t, NewLimits(l, used, microversion.V2(v))); got != want {
			t.Errorf("2.%d:\n got %s\nwant %s", v, got, want)
		}
	}
}

func TestInstanceActionsByMicroversion(t *testing.T) {
	a := InstanceAction{Action: "reboot", InstanceUUID: "u", RequestID: "req-1", UserID: "demo", ProjectID: "demo"}
	base := `{"action":"reboot","instance_uuid":"u","request_id":"req-1","user_id":"demo","project_id":"demo","start_time":"2026-11-22T12:36:40.000000"`
	if got := asJSON(t, NewInstanceAction(a, created, created, false, microversion.V2(57))); got != base+`,"message":null}` {
		t.Errorf("2.57: %s", got)
	}
	if got := asJSON(t, NewInstanceAction(a, created, created, true, microversion.V2(58))); got != base+`,"message":"Error","updated_at":"2026-11-22T12:36:40.000000"}` {
		t.Errorf("2.58, failed: %s", got)
	}

	finish := metav1.NewTime(created)
	in := EventInput{Event: "compute_reboot_instance", Start: created, Result: "Error", Message: "boom", HostID: "h1", Host: "host-1"}
	ev := `{"event":"compute_reboot_instance","start_time":"2026-11-22T12:36:40.000000","finish_time":null,"result":"Error"`
	if got := asJSON(t, NewActionEvent(in, microversion.V2(61))); got != ev+`}` {
		t.Errorf("a member's event at 2.61: %s", got)
	}
	if got := asJSON(t, NewActionEvent(in, microversion.V2(62))); got != ev+`,"hostId":"h1"}` {
		t.Errorf("a member's event at 2.62: %s", got)
	}
	in.Admin = true
	if got := asJSON(t, NewActionEvent(in, microversion.V2(62))); got != ev+`,"traceback":"boom","hostId":"h1","host":"host-1"}` {
		t.Errorf("the admin's event at 2.62: %s", got)
	}
	in.Finish, in.Result = &finish, "Success"
	if got := asJSON(t, NewActionEvent(in, microversion.V2(1))); got != `{"event":"compute_reboot_instance","start_time":"2026-11-22T12:36:40.000000","finish_time":"2026-11-22T12:36:40.000000","result":"Success","traceback":null}` {
		t.Errorf("the admin's finished event at 2.1: %s", got)
	}
}

func TestCreateAnswers(t *testing.T) {
	self := []Link{{Href: "/servers/u/", Rel: "self"}}
	flex := NewFlexServer("u", "web", "z1", "demo", self, NamedRef{Name: "cirros", ID: "i"}, NamedRef{Name: "m1", ID: "m1"})
	want := `{"status":"BUILD","updated":null,"hostId":"","addresses":{},"links":[{"rel":"self","href":"/servers/u/"}],` +
		`"image":{"name":"cirros","links":null,"id":"i"},"userId":"demo","flavor":{"name":"m1","links":null,"id":"m1"},` +
		`"id":"u","zone":"z1","name":"web","created":"","tenantId":null,"accessIPv4":"","accessIPv6":null,"progress":0,"metadata":{}}`
	if got := asJSON(t, flex); got != want {
		t.Errorf("FlexCloud create:\n got %s\nwant %s", got, want)
	}
	created := ServerCreated{ID: "u", Links: self, DiskConfig: "MANUAL", SecurityGroups: []SecurityGroup{}}
	if got := asJSON(t, created); got != `{"id":"u","links":[{"rel":"self","href":"/servers/u/"}],"OS-DCF:diskConfig":"MANUAL","security_groups":[]}` {
		t.Errorf("a replayed create without a password: %s", got)
	}
	created.AdminPass = Some("")
	if got := asJSON(t, created); got != `{"id":"u","links":[{"rel":"self","href":"/servers/u/"}],"OS-DCF:diskConfig":"MANUAL","security_groups":[],"adminPass":""}` {
		t.Errorf("a create with an empty password: %s", got)
	}
}

func TestNetwork(t *testing.T) {
	n := &computev1.Network{}
	n.Name, n.UID, n.Spec.CIDR = "private", "n-1", "10.0.0.0/24"
	if got := asJSON(t, NewNetwork(n)); got != `{"id":"n-1","label":"private","cidr":"10.0.0.0/24"}` {
		t.Errorf("network: %s", got)
	}
}
