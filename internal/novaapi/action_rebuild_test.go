package novaapi

import (
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A rebuild with a new keypair (2.54) and user data (2.57), as the peer answers
// (nova-peer, Zed): the 202 and every read after it show them, null removes them.

const rebuildUserData = "aGVsbG8=" // "hello"

// keypairOf is a keypair of user's in the demo tenant, whose Nova name is name.
func keypairOf(user, name string) *computev1.Keypair {
	return &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: keypairObjectName(user, name), CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.KeypairSpec{Name: name, Type: "ssh", UserID: user, PublicKey: testPublicKey}}
}

func rebuildBodyWith(extra string) string {
	return `{"rebuild": {"imageRef": "` + imageUID + `"` + extra + `}}`
}

func TestRebuildNewKeypairAndUserData(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base), keypairOf("demo", "rbkey"), keypairOf("alice", "alicekey"))...)
	s := e.as("demo", "2.57").do(http.MethodPost, "/servers/"+srvUID+"/action",
		rebuildBodyWith(`, "key_name": "rbkey", "user_data": "`+rebuildUserData+`"`)).expect(202).object()["server"].(map[string]any)
	if s["key_name"] != "rbkey" || s["user_data"] != rebuildUserData || s["status"] != "REBUILD" {
		t.Errorf("answer key_name %v, user_data %v, status %v", s["key_name"], s["user_data"], s["status"])
	}
	sas := e.serverActions()
	if len(sas) != 1 || ptr.Deref(sas[0].Spec.Rebuild.KeyName, "<nil>") != "rbkey" || ptr.Deref(sas[0].Spec.Rebuild.UserData, "<nil>") != rebuildUserData {
		t.Fatalf("ServerActions %+v", sas)
	}
	srv := e.getServer("srv-a")
	if srv.Spec.KeyName != "kp-demo" || srv.Spec.UserData != "" || srv.Status.KeyName != nil || srv.Status.UserData != nil {
		t.Errorf("the rebuild wrote the server: spec %q %q, status %v %v", srv.Spec.KeyName, srv.Spec.UserData, srv.Status.KeyName, srv.Status.UserData)
	}

	// Read right after the 202, before the controller has taken the action up.
	got := showServer(t, e.as("admin", "2.57"), srvUID)
	if got["key_name"] != "rbkey" || got["OS-EXT-SRV-ATTR:user_data"] != rebuildUserData || got["OS-EXT-STS:task_state"] != "rebuilding" {
		t.Errorf("read after the rebuild: key_name %v, user_data %v, task %v", got["key_name"], got["OS-EXT-SRV-ATTR:user_data"], got["OS-EXT-STS:task_state"])
	}
	list := e.as("demo", "2.57").do(http.MethodGet, "/servers/detail", "").expect(200).object()["servers"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["key_name"] != "rbkey" {
		t.Errorf("detail %v", list)
	}
}

func TestRebuildRemovesKeypairAndUserData(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Spec.UserData = rebuildUserData
	e := newEnv(t, standard(srv)...)
	s := e.as("demo", "2.57").do(http.MethodPost, "/servers/"+srvUID+"/action",
		rebuildBodyWith(`, "key_name": null, "user_data": null`)).expect(202).object()["server"].(map[string]any)
	if v, ok := s["key_name"]; !ok || v != nil {
		t.Errorf("answer key_name %v (present %v)", v, ok)
	}
	if v, ok := s["user_data"]; !ok || v != nil {
		t.Errorf("answer user_data %v (present %v)", v, ok)
	}
	sas := e.serverActions()
	if len(sas) != 1 || ptr.Deref(sas[0].Spec.Rebuild.KeyName, "<nil>") != "" || ptr.Deref(sas[0].Spec.Rebuild.UserData, "<nil>") != "" {
		t.Fatalf("ServerActions %+v", sas)
	}
	got := showServer(t, e.as("admin", "2.57"), srvUID)
	if got["key_name"] != nil || got["OS-EXT-SRV-ATTR:user_data"] != nil {
		t.Errorf("read after: key_name %v, user_data %v", got["key_name"], got["OS-EXT-SRV-ATTR:user_data"])
	}
}

// TestRebuildKeepsWhatItDoesNotName: a rebuild without key_name and user_data, or below the
// microversions that have them, keeps the server's.
func TestRebuildKeepsWhatItDoesNotName(t *testing.T) {
	for _, version := range []string{"2.1", "2.57"} {
		srv := server("srv-a", srvUID, base)
		srv.Spec.UserData = rebuildUserData
		e := newEnv(t, standard(srv)...)
		e.as("demo", version).do(http.MethodPost, "/servers/"+srvUID+"/action", rebuildBodyWith("")).expect(202)
		if sas := e.serverActions(); len(sas) != 1 || sas[0].Spec.Rebuild.KeyName != nil || sas[0].Spec.Rebuild.UserData != nil {
			t.Fatalf("%s: ServerActions %+v", version, sas)
		}
		got := showServer(t, e.as("admin", "2.57"), srvUID)
		if got["key_name"] != "kp-demo" || got["OS-EXT-SRV-ATTR:user_data"] != rebuildUserData {
			t.Errorf("%s: key_name %v, user_data %v", version, got["key_name"], got["OS-EXT-SRV-ATTR:user_data"])
		}
	}
}

// TestRebuiltServerShowsStatus: once the controller recorded what a rebuild gave the
// server (status), views show that rather than what it booted with (spec).
func TestRebuiltServerShowsStatus(t *testing.T) {
	srv := server("srv-a", srvUID, base)
	srv.Spec.UserData = rebuildUserData
	srv.Status.KeyName, srv.Status.UserData = ptr.To("rbkey"), ptr.To("")
	e := newEnv(t, standard(srv)...)
	got := showServer(t, e.as("admin", "2.57"), srvUID)
	if got["key_name"] != "rbkey" || got["OS-EXT-SRV-ATTR:user_data"] != nil {
		t.Errorf("key_name %v, user_data %v", got["key_name"], got["OS-EXT-SRV-ATTR:user_data"])
	}
	srv.Status.KeyName = ptr.To("")
	e = newEnv(t, standard(srv)...)
	if got := showServer(t, e.as("demo", "2.57"), srvUID); got["key_name"] != nil {
		t.Errorf("removed keypair shows %v", got["key_name"])
	}
}

// TestRebuildRefusals: Nova's answers (nova-peer, Zed) to a keypair that is not the
// caller's, user data that is not base64, and either below its microversion.
func TestRebuildRefusals(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base), keypairOf("alice", "alicekey"))...)
	path := "/servers/" + srvUID + "/action"
	for _, name := range []string{"nope", "alicekey"} {
		e.as("demo", "2.54").do(http.MethodPost, path, rebuildBodyWith(`, "key_name": "`+name+`"`)).
			expectFault(400, "badRequest", "Invalid key_name provided.")
	}
	e.as("demo", "2.57").do(http.MethodPost, path, rebuildBodyWith(`, "user_data": "!!notb64"`)).
		expectFault(400, "badRequest", "Invalid input for field/attribute user_data. Value: !!notb64. '!!notb64' is not valid under any of the given schemas")
	e.as("demo", "2.53").do(http.MethodPost, path, rebuildBodyWith(`, "key_name": "kp-demo"`)).
		expectFault(400, "badRequest", "Invalid input for field/attribute rebuild. Value: {'imageRef': '"+imageUID+"', 'key_name': 'kp-demo'}. Additional properties are not allowed ('key_name' was unexpected)")
	e.as("demo", "2.56").do(http.MethodPost, path, rebuildBodyWith(`, "user_data": "`+rebuildUserData+`"`)).
		expectFault(400, "badRequest", "Invalid input for field/attribute rebuild. Value: {'imageRef': '"+imageUID+"', 'user_data': '"+rebuildUserData+"'}. Additional properties are not allowed ('user_data' was unexpected)")
	if sas := e.serverActions(); len(sas) != 0 {
		t.Errorf("a refused rebuild left %d ServerActions", len(sas))
	}
}
