package webhook

import (
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

func TestSpecCalls(t *testing.T) {
	active := computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive}
	srv := func(change func(*computev1.ServerSpec)) *computev1.Server {
		s := &computev1.Server{Spec: active}
		change(&s.Spec)
		return s
	}
	for _, c := range []struct {
		name  string
		old   *computev1.Server
		new   *computev1.Server
		rules []string
	}{
		{"a plain create", nil, srv(func(*computev1.ServerSpec) {}), nil},
		{"create locked and stopped", nil, srv(func(s *computev1.ServerSpec) { s.Locked = true; s.PowerState = computev1.PowerStopped }),
			[]string{"os_compute_api:os-lock-server:lock", "os_compute_api:servers:stop"}},
		{"create in rescue", nil, srv(func(s *computev1.ServerSpec) { s.Rescue = true }), []string{"os_compute_api:os-rescue"}},
		{"a flavor at create is no resize", nil, srv(func(s *computev1.ServerSpec) { s.FlavorRef = "m1.large" }), nil},
		{"paused to suspended: unpause, then suspend", srv(func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerPaused }),
			srv(func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerSuspended }),
			[]string{"os_compute_api:os-pause-server:unpause", "os_compute_api:os-suspend-server:suspend"}},
		{"unshelve", srv(func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerShelved }), srv(func(*computev1.ServerSpec) {}),
			[]string{"os_compute_api:os-shelve:unshelve"}},
		{"resize, rebuild, metadata, rename", srv(func(*computev1.ServerSpec) {}),
			srv(func(s *computev1.ServerSpec) {
				s.FlavorRef, s.ImageRef, s.Metadata, s.Name = "m1.large", "ubuntu", map[string]string{"k": "v"}, "web"
			}),
			[]string{"os_compute_api:servers:resize", "os_compute_api:servers:rebuild", "os_compute_api:server-metadata:update_all", "os_compute_api:servers:update"}},
		{"a new lock reason is a lock", srv(func(s *computev1.ServerSpec) { s.Locked = true }),
			srv(func(s *computev1.ServerSpec) { s.Locked = true; s.LockedReason = "why" }), []string{"os_compute_api:os-lock-server:lock"}},
		{"no change", srv(func(*computev1.ServerSpec) {}), srv(func(*computev1.ServerSpec) {}), nil},
		{"create with scheduled images", nil, srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} }),
			[]string{"rax-si-image-schedule:enable"}},
		{"a new retention is an enable", srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} }),
			srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 2} }), []string{"rax-si-image-schedule:enable"}},
		{"the same schedule is no call", srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} }),
			srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} }), nil},
		{"disable", srv(func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} }),
			srv(func(*computev1.ServerSpec) {}), []string{"rax-si-image-schedule:disable"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, fc := range specCalls(c.old, c.new) {
				got = append(got, fc.call.rule)
			}
			if len(got) != len(c.rules) {
				t.Fatalf("calls %v, want %v", got, c.rules)
			}
			for i := range got {
				if got[i] != c.rules[i] {
					t.Errorf("calls %v, want %v", got, c.rules)
				}
			}
		})
	}
}

// The attributes are kube-apiserver's parse of the shim's path: what the Roles of the
// permission matrix name.
func TestCallAttributes(t *testing.T) {
	for _, c := range []struct {
		call                               novaCall
		verb, group, resource, subresource string
	}{
		{actionCall(lifecycle.ActionLock), "create", "nova.kova.dev", "servers", "action"},
		{callMetadata, "update", "nova.kova.dev", "servers", "metadata"},
		{callUpdate, "update", "nova.kova.dev", "servers", ""},
		{callImageSchedule, "create", "nova.kova.dev", "servers", "rax-si-image-schedule"},
		{callNoImageSchedule, "delete", "nova.kova.dev", "servers", "rax-si-image-schedule"},
	} {
		a, err := callAttributes("demo", "srv-1", c.call)
		if err != nil {
			t.Fatal(err)
		}
		if a.Verb != c.verb || a.Group != c.group || a.Resource != c.resource || a.Subresource != c.subresource ||
			a.Namespace != "demo" || a.Name != "srv-1" {
			t.Errorf("%s %s: %+v", c.call.method, c.call.path, a)
		}
	}
}

func TestForcesHost(t *testing.T) {
	for zone, want := range map[string]bool{"": false, "nova": false, "nova:host": true, "nova:host:node": true, "nova::node": true} {
		if computev1.ForcesHost(zone) != want {
			t.Errorf("ForcesHost(%q) = %v", zone, !want)
		}
	}
}

// Every action on a route between two power states is a call the webhook asks RBAC about.
func TestPowerCallsCoverEveryRoute(t *testing.T) {
	powers := []computev1.PowerState{"", computev1.PowerActive, computev1.PowerStopped, computev1.PowerPaused,
		computev1.PowerSuspended, computev1.PowerShelved}
	for _, from := range powers {
		for _, to := range powers {
			for _, a := range rules.PowerRoute(from, to) {
				if _, ok := actionRules[a]; !ok {
					t.Errorf("%q to %q: %s has no call", from, to, a)
				}
			}
		}
	}
}

// Every ServerAction is the call POST /servers/{id}/action, refused in its own rule's words.
func TestEveryServerActionHasItsRule(t *testing.T) {
	for _, a := range []computev1.ActionType{computev1.ActionReboot, computev1.ActionRebuild, computev1.ActionCreateImage,
		computev1.ActionChangePassword, computev1.ActionConfirmResize, computev1.ActionRevertResize,
		computev1.ActionShelveOffload, computev1.ActionStop, computev1.ActionStart, computev1.ActionPause,
		computev1.ActionUnpause, computev1.ActionSuspend, computev1.ActionResume, computev1.ActionShelve,
		computev1.ActionUnshelve, computev1.ActionRescue, computev1.ActionUnrescue, computev1.ActionResize,
		computev1.ActionLock, computev1.ActionUnlock} {
		la := rules.LifecycleAction(&computev1.ServerAction{Spec: computev1.ServerActionSpec{Action: a}})
		if _, ok := actionRules[la]; !ok {
			t.Errorf("%s has no rule", a)
		}
		attrs, err := callAttributes("demo", "srv-1", actionCall(la))
		if err != nil {
			t.Fatal(err)
		}
		if attrs.Verb != "create" || attrs.Group != computev1.NovaAPIGroup || attrs.Resource != "servers" || attrs.Subresource != "action" {
			t.Errorf("%s: %+v", a, attrs)
		}
	}
}
