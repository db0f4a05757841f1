package novaapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// TestDesiredStateActions: an action that has a desired-state form, asked through REST, is
// an imperative request like any other: a ServerAction of its kind, which os-instance-actions
// reads. Server.spec, which belongs to whoever declares the server, is not written.
func TestDesiredStateActions(t *testing.T) {
	tests := []struct {
		action, body string
		vm           lifecycle.VMState
		power        lifecycle.PowerState
		code         int
		check        func(sa *computev1.ServerActionSpec) bool
	}{
		{"stop", `{"os-stop": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 202, nil},
		{"start", `{"os-start": null}`, lifecycle.VMStopped, lifecycle.PowerShutdown, 202, nil},
		{"pause", `{"pause": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 202, nil},
		{"unpause", `{"unpause": null}`, lifecycle.VMPaused, lifecycle.PowerPaused, 202, nil},
		{"suspend", `{"suspend": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 202, nil},
		{"resume", `{"resume": null}`, lifecycle.VMSuspended, lifecycle.PowerSuspended, 202, nil},
		{"shelve", `{"shelve": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 202, nil},
		{"unshelve", `{"unshelve": null}`, lifecycle.VMShelvedOffloaded, lifecycle.PowerShutdown, 202, nil},
		{"rescue", `{"rescue": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 200, nil},
		{"unrescue", `{"unrescue": null}`, lifecycle.VMRescued, lifecycle.PowerShutdown, 202, nil},
		{"resize", `{"resize": {"flavorRef": "2"}}`, lifecycle.VMActive, lifecycle.PowerRunning, 202,
			func(s *computev1.ServerActionSpec) bool { return s.Resize != nil && s.Resize.FlavorRef == "2" }},
		{"lock", `{"lock": null}`, lifecycle.VMActive, lifecycle.PowerRunning, 202,
			func(s *computev1.ServerActionSpec) bool { return s.Lock != nil && s.Lock.Reason == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			before := inState(server("srv-a", srvUID, base), tt.vm, "", tt.power)
			e := newEnv(t, standard(before)...)
			r := e.do(http.MethodPost, "/servers/"+srvUID+"/action", tt.body).expect(tt.code)
			srv := e.getServer("srv-a")
			if !equality.Semantic.DeepEqual(srv.Spec, before.Spec) {
				t.Errorf("spec written: %+v", srv.Spec)
			}
			if tt.code == 200 {
				if pw, _ := r.object()["adminPass"].(string); len(pw) != 12 {
					t.Errorf("rescue answer %s", r.Body.String())
				}
			} else if r.Body.Len() != 0 {
				t.Errorf("body %q", r.Body.String())
			}
			sas := e.serverActions()
			if len(sas) != 1 {
				t.Fatalf("%d ServerActions", len(sas))
			}
			sa := sas[0].Spec
			if string(sa.Action) != tt.action || sa.ServerName != "srv-a" || sa.RequestedBy != "demo" ||
				sa.RequestID != r.Header().Get("X-Openstack-Request-Id") || (tt.check != nil && !tt.check(&sa)) {
				t.Errorf("ServerAction %+v", sa)
			}
		})
	}
}

// TestOneShotActions: actions with no desired-state form become ServerActions.
func TestOneShotActions(t *testing.T) {
	tests := []struct {
		name, body string
		vm         lifecycle.VMState
		code       int
		kind       computev1.ActionType
		check      func(sa *computev1.ServerAction) bool
	}{
		{"soft reboot", `{"reboot": {"type": "SOFT"}}`, lifecycle.VMActive, 202, computev1.ActionReboot,
			func(sa *computev1.ServerAction) bool { return sa.Spec.Reboot.Type == "SOFT" }},
		{"hard reboot", `{"reboot": {"type": "hard"}}`, lifecycle.VMActive, 202, computev1.ActionReboot,
			func(sa *computev1.ServerAction) bool { return sa.Spec.Reboot.Type == "HARD" }},
		{"confirmResize is 204", `{"confirmResize": null}`, lifecycle.VMResized, 204, computev1.ActionConfirmResize, nil},
		{"revertResize", `{"revertResize": null}`, lifecycle.VMResized, 202, computev1.ActionRevertResize, nil},
		{"shelveOffload", `{"shelveOffload": null}`, lifecycle.VMShelved, 202, computev1.ActionShelveOffload, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, standard(inState(server("srv-a", srvUID, base), tt.vm, "", lifecycle.PowerRunning))...)
			r := e.do(http.MethodPost, "/servers/"+srvUID+"/action", tt.body).expect(tt.code)
			sas := e.serverActions()
			if len(sas) != 1 {
				t.Fatalf("%d ServerActions", len(sas))
			}
			sa := sas[0]
			if sa.Spec.Action != tt.kind || sa.Spec.ServerName != "srv-a" || sa.Spec.RequestedBy != "demo" ||
				sa.Spec.RequestID != r.Header().Get("X-Openstack-Request-Id") || !strings.HasPrefix(sa.Spec.RequestID, "req-") {
				t.Errorf("ServerAction %+v", sa.Spec)
			}
			if tt.check != nil && !tt.check(&sa) {
				t.Errorf("ServerAction %+v", sa.Spec)
			}
		})
	}
}

// TestActionConflicts: a refused action is Nova's 409 with the lifecycle's message, and
// nothing is written.
func TestActionConflicts(t *testing.T) {
	id := srvUID
	tests := []struct {
		name, body string
		srv        *computev1.Server
		user       string
		msg        string
	}{
		{"pause paused (sample)", `{"pause": null}`, inState(server("srv-a", id, base), lifecycle.VMPaused, "", lifecycle.PowerPaused), "demo",
			"Cannot 'pause' instance " + id + " while it is in vm_state paused"},
		{"stop stopped (sample)", `{"os-stop": null}`, inState(server("srv-a", id, base), lifecycle.VMStopped, "", lifecycle.PowerShutdown), "demo",
			"Cannot 'stop' instance " + id + " while it is in vm_state stopped"},
		{"reboot locked (sample)", `{"reboot": {"type": "SOFT"}}`, locked(server("srv-a", id, base)), "demo",
			"Instance " + id + " is locked"},
		{"resize while resizing", `{"resize": {"flavorRef": "2"}}`, inState(server("srv-a", id, base), lifecycle.VMActive, lifecycle.TaskResizePrep, lifecycle.PowerRunning), "demo",
			"Cannot 'resize' instance " + id + " while it is in task_state resize_prep"},
		{"confirm when not resized", `{"confirmResize": null}`, server("srv-a", id, base), "demo",
			"Cannot 'confirmResize' instance " + id + " while it is in vm_state active"},
		{"changePassword stopped", `{"changePassword": {"adminPass": "x"}}`, inState(server("srv-a", id, base), lifecycle.VMStopped, "", lifecycle.PowerShutdown), "demo",
			"Cannot 'changePassword' instance " + id + " while it is in vm_state stopped"},
		{"createImage rescued", `{"createImage": {"name": "snap"}}`, inState(server("srv-a", id, base), lifecycle.VMRescued, "", lifecycle.PowerShutdown), "demo",
			"Cannot 'createImage' instance " + id + " while it is in vm_state rescued"},
		{"rebuild never launched", `{"rebuild": {"imageRef": "` + imageUID + `"}}`, neverLaunched(server("srv-a", id, base)), "demo",
			"Instance " + id + " is in an invalid state for 'rebuild'"},
		{"restore an active server (no soft delete)", `{"restore": null}`, server("srv-a", id, base), "demo",
			"Cannot 'restore' instance " + id + " while it is in vm_state active"},
		{"restore a locked server", `{"restore": null}`, locked(server("srv-a", id, base)), "demo",
			"Instance " + id + " is locked"},
		{"admin still gets vm_state", `{"pause": null}`, locked(inState(server("srv-a", id, base), lifecycle.VMPaused, "", lifecycle.PowerPaused)), "admin",
			"Cannot 'pause' instance " + id + " while it is in vm_state paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, standard(tt.srv)...)
			before := e.getServer("srv-a")
			e.as(tt.user, "").do(http.MethodPost, "/servers/"+id+"/action", tt.body).expectFault(409, "conflictingRequest", tt.msg)
			after := e.getServer("srv-a")
			if after.ResourceVersion != before.ResourceVersion || len(e.serverActions()) != 0 {
				t.Error("a refused action wrote something")
			}
		})
	}
	t.Run("admin may act on a locked server", func(t *testing.T) {
		e := newEnv(t, standard(locked(server("srv-a", id, base)))...)
		e.as("admin", "").do(http.MethodPost, "/servers/"+id+"/action", `{"os-stop": null}`).expect(202)
	})
	t.Run("the owner may unlock", func(t *testing.T) {
		e := newEnv(t, standard(locked(server("srv-a", id, base)))...)
		e.do(http.MethodPost, "/servers/"+id+"/action", `{"unlock": null}`).expect(202)
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Spec.Action != computev1.ActionUnlock {
			t.Errorf("actions %+v", sas)
		}
		if srv := e.getServer("srv-a"); !srv.Spec.Locked {
			t.Error("the REST unlock wrote spec")
		}
	})
}

func locked(s *computev1.Server) *computev1.Server {
	s.Spec.Locked, s.Status.Locked = true, true
	return s
}

func neverLaunched(s *computev1.Server) *computev1.Server {
	inState(s, lifecycle.VMError, "", lifecycle.PowerNoState)
	s.Status.LaunchedAt = nil
	return s
}

// TestPendingActionIsBusy: right after an action the server is busy with it, as Nova
// shows and checks it, although the controller has not taken it up yet.
func TestPendingActionIsBusy(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expect(202)
	// A real API server moves the generation on with the spec; the fake one does not.
	srv := e.getServer("srv-a")
	srv.Generation = 2
	if err := e.c.Update(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	s := showServer(t, e, srvUID)
	if s["status"] != "ACTIVE" || s["OS-EXT-STS:task_state"] != "powering-off" {
		t.Errorf("status %v task %v", s["status"], s["OS-EXT-STS:task_state"])
	}
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).
		expectFault(409, "conflictingRequest", "Cannot 'stop' instance "+srvUID+" while it is in task_state powering-off")

	e2 := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e2.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"reboot": {"type": "SOFT"}}`).expect(202)
	s = showServer(t, e2, srvUID)
	if s["status"] != "REBOOT" || s["OS-EXT-STS:task_state"] != "rebooting" {
		t.Errorf("status %v task %v", s["status"], s["OS-EXT-STS:task_state"])
	}
	e2.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"pause": null}`).
		expectFault(409, "conflictingRequest", "Cannot 'pause' instance "+srvUID+" while it is in task_state rebooting")
}

func TestActionBodies(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID + "/action"
	tests := []struct {
		name, version, body, key, msg string
		code                          int
	}{
		{"unknown action", "", `{"fly": null}`, "badRequest", "There is no such action: fly", 400},
		{"two actions", "", `{"pause": null, "unpause": null}`, "badRequest", "Malformed request body", 400},
		{"not JSON", "", `pause`, "badRequest", "Malformed request body", 400},
		{"resize without flavorRef (sample)", "", `{"resize": {}}`, "badRequest",
			"Invalid input for field/attribute resize. Value: {}. 'flavorRef' is a required property", 400},
		{"resize to an unknown flavor", "", `{"resize": {"flavorRef": "nope"}}`, "badRequest", "Flavor nope could not be found.", 400},
		{"resize to the same flavor", "", `{"resize": {"flavorRef": "1"}}`, "badRequest", "When resizing, instances must change flavor!", 400},
		{"reboot type", "", `{"reboot": {"type": "gentle"}}`, "badRequest",
			"Invalid input for field/attribute type. Value: gentle. 'gentle' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']", 400},
		{"reboot without type", "", `{"reboot": {}}`, "badRequest",
			"Invalid input for field/attribute reboot. Value: {}. 'type' is a required property", 400},
		{"rebuild image format", "", `{"rebuild": {"imageRef": "cirros"}}`, "badRequest",
			"Invalid input for field/attribute imageRef. Value: cirros. 'cirros' is not a 'uuid'", 400},
		{"rebuild unknown image", "", `{"rebuild": {"imageRef": "33333333-0000-0000-0000-000000000000"}}`, "badRequest", "Cannot find image for rebuild", 400},
		{"createImage without name", "", `{"createImage": {}}`, "badRequest",
			"Invalid input for field/attribute createImage. Value: {}. 'name' is a required property", 400},
		{"changePassword without password", "", `{"changePassword": {}}`, "badRequest",
			"Invalid input for field/attribute changePassword. Value: {}. 'adminPass' is a required property", 400},
		{"lock reason before 2.73 is not read", "2.72", `{"lock": {"anything": 1}}`, "", "", 202},
		{"lock reason from 2.73", "2.73", `{"lock": {"locked_reason": ""}}`, "badRequest",
			"Invalid input for field/attribute locked_reason. Value: . '' is too short", 400},
		{"addFloatingIp on a server with no address yet", "", `{"addFloatingIp": {"address": "1.2.3.4"}}`, "badRequest",
			"Instance network is not ready yet", 400},
		{"addFloatingIp's address is an IP", "", `{"addFloatingIp": {"address": "nowhere"}}`, "badRequest",
			"Invalid input for field/attribute address. Value: nowhere. 'nowhere' is not valid under any of the given schemas", 400},
		{"addFloatingIp is gone from 2.44", "2.44", `{"addFloatingIp": {"address": "1.2.3.4"}}`, "itemNotFound",
			"The resource could not be found.", 404},
		{"trigger_crash_dump starts at 2.17", "2.16", `{"trigger_crash_dump": null}`, "itemNotFound", "The resource could not be found.", 404},
		{"trigger_crash_dump", "2.17", `{"trigger_crash_dump": null}`, "notImplemented",
			"The trigger_crash_dump action is not implemented yet in Kova.", 501},
		{"console output length below -1 (peer)", "", `{"os-getConsoleOutput": {"length": -2}}`, "badRequest",
			"Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1", 400},
		{"console output length not a number (peer)", "", `{"os-getConsoleOutput": {"length": "abc"}}`, "badRequest",
			"Invalid input for field/attribute length. Value: abc. 'abc' does not match '^-?[0-9]+$'", 400},
		{"migrate", "", `{"migrate": null}`, "notImplemented", "The migrate action is not implemented yet in Kova.", 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.as("demo", tt.version).do(http.MethodPost, path, tt.body)
			if tt.code < 300 {
				r.expect(tt.code)
				return
			}
			r.expectFault(tt.code, tt.key, tt.msg)
		})
	}
	t.Run("unknown server", func(t *testing.T) {
		e.do(http.MethodPost, "/servers/nope/action", `{"pause": null}`).expectFault(404, "itemNotFound", "Instance nope could not be found.")
	})
}

func TestLockReason(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e.as("demo", "2.73").do(http.MethodPost, "/servers/"+srvUID+"/action", `{"lock": {"locked_reason": "maintenance"}}`).expect(202)
	s := showServer(t, e.as("demo", "2.73"), srvUID)
	if s["locked"] != true || s["locked_reason"] != "maintenance" {
		t.Errorf("locked %v reason %v", s["locked"], s["locked_reason"])
	}
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"unlock": null}`).expect(202)
	s = showServer(t, e.as("demo", "2.73"), srvUID)
	if s["locked"] != false || s["locked_reason"] != nil {
		t.Errorf("locked %v reason %v", s["locked"], s["locked_reason"])
	}
}

func TestCreateImageAction(t *testing.T) {
	for _, version := range []string{"2.1", "2.45"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, standard(server("srv-a", srvUID, base))...)
			r := e.as("demo", version).do(http.MethodPost, "/servers/"+srvUID+"/action",
				`{"createImage": {"name": "peer-demo-snap", "metadata": {"kind": "snapshot"}}}`).expect(202)
			sas := e.serverActions()
			if len(sas) != 1 || sas[0].Spec.CreateImage.ImageName != "peer-demo-snap" {
				t.Fatalf("ServerActions %+v", sas)
			}
			var imgs computev1.ImageList
			_ = e.c.List(context.Background(), &imgs, client.InNamespace(tenant))
			if len(imgs.Items) != 1 || imgs.Items[0].Name != "snapshot-"+string(sas[0].UID) {
				t.Fatalf("images %+v", imgs.Items)
			}
			img := imgs.Items[0]
			if img.Spec.Metadata["instance_uuid"] != srvUID || img.Spec.Metadata["kind"] != "snapshot" || img.Spec.Metadata["image_type"] != "snapshot" {
				t.Errorf("image metadata %v", img.Spec.Metadata)
			}
			id := string(img.UID)
			if version == "2.45" {
				if m := r.object(); m["image_id"] != id || len(m) != 1 || r.Header().Get("Location") != "" {
					t.Errorf("body %v, Location %q", m, r.Header().Get("Location"))
				}
			} else if r.Header().Get("Location") != root+"/images/"+id || r.Body.Len() != 0 {
				t.Errorf("Location %q body %q", r.Header().Get("Location"), r.Body.String())
			}
			// The new image shows at once, as Nova's queued image does.
			got := e.do(http.MethodGet, "/images/"+id, "").expect(200).object()["image"].(map[string]any)
			if got["status"] != "SAVING" || got["progress"] != float64(25) || got["server"].(map[string]any)["id"] != srvUID {
				t.Errorf("image %v", got)
			}
			if keys, want := keysOf(got), sampleKeys(t, "image_snapshot.json", "image"); strings.Join(keys, ",") != strings.Join(want, ",") {
				t.Errorf("keys %v, want %v", keys, want)
			}
		})
	}
}

func TestChangePasswordAction(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"changePassword": {"adminPass": "n3w-pass"}}`).expect(202)
	sas := e.serverActions()
	if len(sas) != 1 || sas[0].Spec.ChangePassword == nil || sas[0].Spec.ChangePassword.SecretName != sas[0].Name {
		t.Fatalf("ServerActions %+v", sas)
	}
	secret := &corev1.Secret{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: sas[0].Name}, secret); err != nil {
		t.Fatal(err)
	}
	pw := string(secret.Data["password"]) + secret.StringData["password"]
	if pw != "n3w-pass" {
		t.Errorf("secret holds %q", pw)
	}
	if len(secret.OwnerReferences) != 1 || secret.OwnerReferences[0].UID != sas[0].UID {
		t.Errorf("owner %v", secret.OwnerReferences)
	}
}

func TestRebuildAction(t *testing.T) {
	for _, version := range []string{"2.1", "2.75"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t, standard(server("srv-a", srvUID, base))...)
			r := e.as("demo", version).do(http.MethodPost, "/servers/"+srvUID+"/action",
				`{"rebuild": {"imageRef": "`+imageUID+`", "name": "peer-demo-rebuilt", "adminPass": "Tt5oY3V9qWP2"}}`).expect(202)
			s := r.object()["server"].(map[string]any)
			if s["status"] != "REBUILD" || s["name"] != "peer-demo-rebuilt" || s["adminPass"] != "Tt5oY3V9qWP2" || s["progress"] != float64(0) {
				t.Errorf("answer %v", s)
			}
			if version == "2.1" {
				if got, want := keysOf(s), sampleKeys(t, "rebuild_response.json", "server"); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("keys %v, want %v", got, want)
				}
			} else if _, ok := s["OS-EXT-STS:vm_state"]; !ok {
				t.Error("2.75 rebuild answer is not the full view")
			}
			if r.Header().Get("Location") != root+"/servers/"+srvUID {
				t.Errorf("Location %q", r.Header().Get("Location"))
			}
			sas := e.serverActions()
			if len(sas) != 1 || sas[0].Spec.Rebuild.ImageRef != "cirros" {
				t.Errorf("ServerActions %+v", sas)
			}
			if e.getServer("srv-a").Spec.Name != "peer-demo-rebuilt" {
				t.Error("name not changed")
			}
		})
	}
}

// TestWriteRaces: a write that lost a race on resourceVersion is done again on the
// latest server, checked again; an admission webhook's refusal is Nova's answer.
func TestWriteRaces(t *testing.T) {
	t.Run("stale cache: retried on the latest server", func(t *testing.T) {
		calls := 0
		e := newEnvWith(t, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			calls++
			if calls == 1 {
				// The server was locked meanwhile.
				srv := &computev1.Server{}
				_ = c.Get(ctx, client.ObjectKeyFromObject(obj), srv)
				srv.Status.Locked = true
				if err := c.Status().Update(ctx, srv); err != nil {
					t.Fatal(err)
				}
			}
			return c.Patch(ctx, obj, p, opts...)
		}, standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPut, "/servers/"+srvUID+"/metadata", `{"metadata": {"k": "v"}}`).
			expectFault(409, "conflictingRequest", "Instance "+srvUID+" is locked")
		if calls != 1 || e.getServer("srv-a").Spec.Metadata["k"] != "" {
			t.Errorf("%d patches, spec %+v", calls, e.getServer("srv-a").Spec)
		}
	})
	t.Run("webhook refusal", func(t *testing.T) {
		e := newEnvWith(t, func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return apierrors.NewConflict(k8sschema.GroupResource{Group: "compute.kova.dev", Resource: "servers"}, "srv-a",
				errors.New("Instance "+srvUID+" is locked"))
		}, standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).
			expectFault(409, "conflictingRequest", "Instance "+srvUID+" is locked")
	})
	t.Run("unexpected errors are computeFaults", func(t *testing.T) {
		e := newEnvWith(t, func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
			return errors.New("etcd is on fire")
		}, standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).
			expectFault(500, "computeFault", "Unexpected API Error. etcd is on fire")
	})
}

func TestWebhookMessage(t *testing.T) {
	msg := `admission webhook "vserver.compute.kova.dev" denied the request: Operation cannot be fulfilled on servers.compute.kova.dev "srv-a": Cannot 'pause' instance x while it is in vm_state paused`
	if got := webhookMessage(msg); got != "Cannot 'pause' instance x while it is in vm_state paused" {
		t.Errorf("got %q", got)
	}
	if isOptimisticConflict(apierrors.NewConflict(k8sschema.GroupResource{Resource: "servers"}, "srv-a", errors.New("Instance x is locked"))) {
		t.Error("a webhook conflict is retried")
	}
	if !isOptimisticConflict(apierrors.NewConflict(k8sschema.GroupResource{Resource: "servers"}, "srv-a",
		errors.New("the object has been modified; please apply your changes to the latest version and try again"))) {
		t.Error("a resourceVersion conflict is not retried")
	}
}

func TestRescueAndUnshelveBodies(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID + "/action"
	e.do(http.MethodPost, path, `{"rescue": {"rescue_image_ref": "`+imageUID+`"}}`).
		expectFault(501, "notImplemented", "Rescue from another image (rescue_image_ref) is not implemented yet in Kova.")
	r := e.do(http.MethodPost, path, `{"rescue": {"adminPass": "MySecretPass"}}`).expect(200)
	if r.object()["adminPass"] != "MySecretPass" {
		t.Errorf("rescue %s", r.Body.String())
	}

	shelved := inState(server("srv-s", "00000000-0000-0000-0000-0000000000a5", base), lifecycle.VMShelvedOffloaded, "", lifecycle.PowerShutdown)
	e = newEnv(t, standard(shelved)...)
	path = "/servers/" + string(shelved.UID) + "/action"
	e.as("demo", "2.77").do(http.MethodPost, path, `{"unshelve": {}}`).expectFault(400, "badRequest",
		"Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property")
	e.as("demo", "2.77").do(http.MethodPost, path, `{"unshelve": {"availability_zone": "elsewhere"}}`).
		expectFault(400, "badRequest", "The requested availability zone is not available")
	e.as("demo", "2.77").do(http.MethodPost, path, `{"unshelve": {"availability_zone": "nova"}}`).expect(202)
	if sas := e.serverActions(); len(sas) != 1 || sas[0].Spec.Action != computev1.ActionUnshelve {
		t.Errorf("not unshelved: %+v", sas)
	}
}

// A resize sets the server's diskConfig: as asked, or MANUAL when not asked (checked on the
// peer: AUTO, resized with no OS-DCF:diskConfig, shows MANUAL at once).
func TestResizeSetsDiskConfig(t *testing.T) {
	for _, tt := range []struct{ name, was, body, want string }{
		{"manual to auto", "", `{"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "AUTO"}}`, "AUTO"},
		{"auto to manual", "AUTO", `{"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "MANUAL"}}`, "MANUAL"},
		{"auto, not asked", "AUTO", `{"resize": {"flavorRef": "2"}}`, "MANUAL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := server("srv-a", srvUID, base)
			if tt.was != "" {
				setAnnotation(srv, annDiskConfig, tt.was)
			}
			e := newEnv(t, standard(srv)...)
			e.do(http.MethodPost, "/servers/"+srvUID+"/action", tt.body).expect(202)
			if got := showServer(t, e, srvUID)["OS-DCF:diskConfig"]; got != tt.want {
				t.Errorf("diskConfig %v, want %s", got, tt.want)
			}
			if sas := e.serverActions(); len(sas) != 1 || sas[0].Spec.Resize == nil {
				t.Errorf("actions %+v", sas)
			}
		})
	}
}

// createBackup is a createImage ServerAction whose image is a backup (rotation done by the
// controller once it is active); bodies and messages are the peer's.
func TestCreateBackupAction(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	act := "/servers/" + srvUID + "/action"
	r := e.do(http.MethodPost, act, `{"createBackup": {"name": "bk", "backup_type": "daily", "rotation": "2", "metadata": {"k": "v"}}}`).expect(202)
	sas := e.serverActions()
	if len(sas) != 1 || sas[0].Spec.Action != computev1.ActionCreateImage || sas[0].Spec.CreateImage.Backup == nil ||
		*sas[0].Spec.CreateImage.Backup != (computev1.BackupParams{Type: "daily", Rotation: 2}) {
		t.Fatalf("ServerActions %+v", sas)
	}
	var imgs computev1.ImageList
	_ = e.c.List(context.Background(), &imgs, client.InNamespace(tenant))
	if len(imgs.Items) != 1 {
		t.Fatalf("images %+v", imgs.Items)
	}
	img := imgs.Items[0]
	if m := img.Spec.Metadata; m["image_type"] != "backup" || m["backup_type"] != "daily" || m["k"] != "v" || img.Annotations[rules.AnnBackupRotation] != "2" {
		t.Errorf("backup image %v %v", m, img.Annotations)
	}
	if r.Header().Get("Location") != root+"/images/"+string(img.UID) || r.Body.Len() != 0 {
		t.Errorf("Location %q body %q", r.Header().Get("Location"), r.Body.String())
	}

	e2 := newEnv(t, standard(server("srv-a", srvUID, base))...)
	if m := e2.as("demo", "2.45").do(http.MethodPost, act, `{"createBackup": {"name": "bk", "backup_type": "daily", "rotation": 0}}`).expect(202).object(); len(m) != 1 || m["image_id"] == nil {
		t.Errorf("2.45 body %v", m)
	}
	for body, msg := range map[string]string{
		`{"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}}`:  "Invalid input for field/attribute rotation. Value: -1. -1 is less than the minimum of 0",
		`{"createBackup": {"name": "b", "backup_type": "daily", "rotation": "x"}}`: "Invalid input for field/attribute rotation. Value: x. 'x' does not match '^[0-9]*$'",
		`{"createBackup": {"name": "b", "backup_type": "daily"}}`:                  "Invalid input for field/attribute createBackup. Value: {'name': 'b', 'backup_type': 'daily'}. 'rotation' is a required property",
	} {
		e2.do(http.MethodPost, act, body).expectFault(400, "badRequest", msg)
	}
	rescued := inState(server("srv-a", srvUID, base), lifecycle.VMRescued, "", lifecycle.PowerShutdown)
	newEnv(t, standard(rescued)...).do(http.MethodPost, act, `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}`).
		expectFault(409, "conflictingRequest", "Cannot 'createBackup' instance "+srvUID+" while it is in vm_state rescued")
}

// TestActionsOnOneServerOneAtATime: two requests for one server are taken one at a time, as
// Nova takes them. Each test plays the other request, through another replica, at the
// moment it matters, and checks that this one answers as Nova answers the one that comes
// second: 409, with the other's stop pending, and nothing more made.
func TestActionsOnOneServerOneAtATime(t *testing.T) {
	const other = "srv-a-stop-other"
	stopping := func(ctx context.Context, c client.WithWatch, name string) {
		t.Helper()
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name, UID: types.UID(uuid.NewString()),
			CreationTimestamp: metav1.NewTime(time.Now())},
			Spec: computev1.ServerActionSpec{ServerName: "srv-a", Action: computev1.ActionStop}}
		if err := c.Create(ctx, sa); err != nil {
			t.Fatal(err)
		}
	}
	const second = "Cannot 'stop' instance " + srvUID + " while it is in task_state powering-off"
	// atFirstNote is a client patch that lets the other request change the server (and make
	// what it makes) between this one's check and its first note; patches counts the notes.
	atFirstNote := func(patches *int, change func(*computev1.Server), then func(context.Context, client.WithWatch)) func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
		return func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if *patches++; *patches == 1 {
				srv := &computev1.Server{}
				if err := c.Get(ctx, client.ObjectKeyFromObject(obj), srv); err != nil {
					t.Fatal(err)
				}
				change(srv)
				if err := c.Update(ctx, srv); err != nil {
					t.Fatal(err)
				}
				if then != nil {
					then(ctx, c)
				}
			}
			return c.Patch(ctx, obj, p, opts...)
		}
	}
	t.Run("the server noted since its check", func(t *testing.T) {
		patches := 0
		// The other request notes its stop and makes it.
		e := newEnvWith(t, atFirstNote(&patches, func(srv *computev1.Server) { srv.Annotations[annPendingAction] = other },
			func(ctx context.Context, c client.WithWatch) { stopping(ctx, c, other) }), standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expectFault(409, "conflictingRequest", second)
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Name != other {
			t.Errorf("actions %+v, want only the other request's", sas)
		}
		if got := e.getServer("srv-a").Annotations[annPendingAction]; got != other {
			t.Errorf("the server names %q, want the other request's action", got)
		}
	})
	t.Run("a backup checked again, in its own name", func(t *testing.T) {
		patches := 0
		e := newEnvWith(t, atFirstNote(&patches, func(srv *computev1.Server) { srv.Annotations[annPendingAction] = other },
			func(ctx context.Context, c client.WithWatch) { stopping(ctx, c, other) }), standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}`).
			expectFault(409, "conflictingRequest", "Cannot 'createBackup' instance "+srvUID+" while it is in task_state powering-off")
	})
	t.Run("a rebuild whose patch of the spec meets the other's note", func(t *testing.T) {
		patches := 0
		// The rebuild's patch of the name is retried on the server as the other request
		// left it, note and all: its action is checked again before it is noted.
		e := newEnvWith(t, atFirstNote(&patches, func(srv *computev1.Server) { srv.Annotations[annPendingAction] = other },
			func(ctx context.Context, c client.WithWatch) { stopping(ctx, c, other) }), standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"rebuild": {"imageRef": "`+imageUID+`", "name": "renamed"}}`).
			expectFault(409, "conflictingRequest", "Cannot 'rebuild' instance "+srvUID+" while it is in task_state powering-off")
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Name != other {
			t.Errorf("actions %+v, want only the other request's", sas)
		}
	})
	t.Run("a noted action not made yet is made under its name", func(t *testing.T) {
		srv := server("srv-a", srvUID, base)
		srv.Annotations[annPendingAction] = other // noted, then its request failed or stopped
		e := newEnv(t, standard(srv)...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expect(202)
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Name != other || sas[0].Spec.Action != computev1.ActionStop {
			t.Errorf("actions %+v, want one stop named %s", sas, other)
		}
	})
	t.Run("the noted name taken first", func(t *testing.T) {
		srv := server("srv-a", srvUID, base)
		srv.Annotations[annPendingAction] = other // the other request has noted its stop
		e := newEnvWith(t, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if err := c.Patch(ctx, obj, p, opts...); err != nil {
				return err
			}
			// and makes it, between this one's note and its create.
			var list computev1.ServerActionList
			if err := c.List(ctx, &list, client.InNamespace(tenant)); err != nil {
				t.Fatal(err)
			}
			if len(list.Items) == 0 {
				stopping(ctx, c, other)
			}
			return nil
		}, standard(srv)...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expectFault(409, "conflictingRequest", second)
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Name != other {
			t.Errorf("actions %+v, want only the other request's", sas)
		}
	})
	t.Run("a refused action's note is taken back, not another's", func(t *testing.T) {
		for _, noted := range []string{"", other} {
			srv := server("srv-a", srvUID, base)
			if noted != "" {
				srv.Annotations[annPendingAction] = noted // made now by the other request: claimed
			}
			e := newEnv(t, standard(srv)...)
			refusing := interceptor.NewClient(e.c, interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				return apierrors.NewForbidden(k8sschema.GroupResource{Group: "compute.kova.dev", Resource: "serveractions"}, obj.GetName(), errors.New("no"))
			}})
			e.h = New(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public,
				ClientFor: func(user.Info) (client.Client, error) { return refusing, nil }})
			e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expect(403)
			if got, ok := e.getServer("srv-a").Annotations[annPendingAction]; got != noted || ok != (noted != "") {
				t.Errorf("noted %q before: the note is %q (%v) after the refusal", noted, got, ok)
			}
		}
	})
	t.Run("a second try after an action that allows it", func(t *testing.T) {
		patches := 0
		// The other request changes the server's metadata: nothing a stop waits for.
		e := newEnvWith(t, atFirstNote(&patches, func(srv *computev1.Server) { srv.Spec.Metadata = map[string]string{"k": "v"} }, nil),
			standard(server("srv-a", srvUID, base))...)
		e.do(http.MethodPost, "/servers/"+srvUID+"/action", `{"os-stop": null}`).expect(202)
		sas := e.serverActions()
		if len(sas) != 1 || sas[0].Spec.Action != computev1.ActionStop || patches != 2 {
			t.Fatalf("actions %+v after %d notes, want one stop after two", sas, patches)
		}
		if got := e.getServer("srv-a").Annotations[annPendingAction]; got != sas[0].Name {
			t.Errorf("the server names %q, want %q", got, sas[0].Name)
		}
	})
}
