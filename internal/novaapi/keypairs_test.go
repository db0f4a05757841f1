package novaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
	"github.com/kova-dev/kova/internal/refs"
)

func TestKeypairGenerate(t *testing.T) {
	e := newEnv(t, standard()...)
	r := e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "kp-new"}}`).expect(200)
	kp := r.object()["keypair"].(map[string]any)
	if got, want := keysOf(kp), sampleKeys(t, "keypair_create_generated.json", "keypair"); !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	priv := kp["private_key"].(string)
	if !strings.HasPrefix(priv, "-----BEGIN RSA PRIVATE KEY-----") {
		t.Errorf("private_key %q", priv)
	}
	if fp, _ := keys.Fingerprint("ssh", kp["public_key"].(string)); fp != kp["fingerprint"] {
		t.Errorf("fingerprint %v, key's %v", kp["fingerprint"], fp)
	}

	obj := &computev1.Keypair{}
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: tenant, Name: keypairObjectName("demo", "kp-new")}, obj); err != nil {
		t.Fatal(err)
	}
	if obj.Spec.Name != "kp-new" {
		t.Errorf("spec.name %q", obj.Spec.Name)
	}
	var secrets corev1.SecretList
	if err := e.c.List(context.Background(), &secrets); err != nil || len(secrets.Items) != 0 {
		t.Errorf("a generated key left in Secrets: %v %v", secrets.Items, err)
	}
	raw, _ := json.Marshal(obj)
	if strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), strings.Split(priv, "\n")[1]) {
		t.Error("the private key is stored in the Keypair")
	}
	if obj.Spec.PublicKey != kp["public_key"] || obj.Spec.UserID != "demo" || obj.Spec.Type != "ssh" {
		t.Errorf("keypair spec %+v", obj.Spec)
	}

	// Shown again, it has no private key; listed, it is the caller's.
	shown := e.do(http.MethodGet, "/os-keypairs/kp-new", "").expect(200).object()["keypair"].(map[string]any)
	if _, ok := shown["private_key"]; ok {
		t.Error("private_key shown again")
	}
	if got, want := keysOf(shown), sampleKeys(t, "keypair.json", "keypair"); !slices.Equal(got, want) {
		t.Errorf("show keys %v, want %v", got, want)
	}
}

func TestKeypairs(t *testing.T) {
	other := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "kp-other", UID: "kp-uid-2", CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.KeypairSpec{Type: "ssh", UserID: "someone", PublicKey: testPublicKey}}
	e := newEnv(t, standard(other)...)

	t.Run("list is the caller's only, in the sample's shape", func(t *testing.T) {
		m := e.do(http.MethodGet, "/os-keypairs", "").expect(200).object()
		list := m["keypairs"].([]any)
		if len(list) != 1 {
			t.Fatalf("listed %v", list)
		}
		kp := list[0].(map[string]any)["keypair"].(map[string]any)
		if kp["name"] != "kp-demo" || kp["fingerprint"] != "1f:cd:f4:8c:f3:52:81:97:5b:e0:36:58:bd:1e:d6:98" {
			t.Errorf("keypair %v", kp)
		}
		if got, want := keysOf(kp), []string{"fingerprint", "name", "public_key"}; !slices.Equal(got, want) {
			t.Errorf("keys %v", got)
		}
		kp = e.as("demo", "2.2").do(http.MethodGet, "/os-keypairs", "").expect(200).object()["keypairs"].([]any)[0].(map[string]any)["keypair"].(map[string]any)
		if kp["type"] != "ssh" {
			t.Errorf("2.2 keypair %v", kp)
		}
	})
	t.Run("another user's keypair is not found", func(t *testing.T) {
		e.do(http.MethodGet, "/os-keypairs/kp-other", "").expectFault(404, "itemNotFound", "Keypair kp-other not found for user demo")
		e.as("admin", "2.10").do(http.MethodGet, "/os-keypairs/kp-other?user_id=someone", "").expect(200)
		e.as("demo", "2.10").do(http.MethodGet, "/os-keypairs/kp-other?user_id=someone", "").
			expectFault(403, "forbidden", "Policy doesn't allow os_compute_api:os-keypairs:show to be performed.")
	})
	t.Run("import", func(t *testing.T) {
		r := e.as("demo", "2.2").do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "imported", "public_key": "`+testPublicKey+`"}}`).expect(201)
		kp := r.object()["keypair"].(map[string]any)
		if _, ok := kp["private_key"]; ok || kp["type"] != "ssh" || kp["fingerprint"] != "1f:cd:f4:8c:f3:52:81:97:5b:e0:36:58:bd:1e:d6:98" {
			t.Errorf("imported %v", kp)
		}
	})
	t.Run("duplicate (sample)", func(t *testing.T) {
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "kp-demo"}}`).
			expectFault(409, "conflictingRequest", "Key pair 'kp-demo' already exists.")
	})
	t.Run("invalid key", func(t *testing.T) {
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "bad", "public_key": "ssh-rsa nope"}}`).
			expectFault(400, "badRequest", "Keypair data is invalid: failed to generate fingerprint")
	})
	t.Run("invalid name", func(t *testing.T) {
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "a/b"}}`).expectFault(400, "badRequest",
			"An invalid 'name' value was provided. The name must be: Only expected characters: [_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ]")
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "x", "type": "ssh"}}`).expectFault(400, "badRequest",
			"Invalid input for field/attribute keypair. Value: {'name': 'x', 'type': 'ssh'}. Additional properties are not allowed ('type' was unexpected)")
	})
	t.Run("a Nova name that is no object name", func(t *testing.T) {
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "My Key_1", "public_key": "`+testPublicKey+`"}}`).expect(200)
		shown := e.do(http.MethodGet, "/os-keypairs/My%20Key_1", "").expect(200).object()["keypair"].(map[string]any)
		if shown["name"] != "My Key_1" {
			t.Errorf("shown %v", shown)
		}
		s := e.as("demo", "2.37").do(http.MethodPost, "/servers", `{"server": {"name": "k", "flavorRef": "1", "imageRef": "`+imageUID+`", "networks": "none", "key_name": "My Key_1"}}`).expect(202).object()["server"].(map[string]any)
		if showServer(t, e, s["id"].(string))["key_name"] != "My Key_1" {
			t.Error("key_name not the Nova name")
		}
		e.do(http.MethodDelete, "/os-keypairs/My%20Key_1", "").expect(202)
	})
	t.Run("delete", func(t *testing.T) {
		e.do(http.MethodDelete, "/os-keypairs/imported", "").expect(202)
		e.do(http.MethodDelete, "/os-keypairs/imported", "").expectFault(404, "itemNotFound", "Keypair imported not found for user demo")
		e.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "again", "public_key": "`+testPublicKey+`"}}`).expect(200)
		e.as("demo", "2.2").do(http.MethodDelete, "/os-keypairs/again", "").expect(204)
	})
	t.Run("x509", func(t *testing.T) {
		kp := e.as("demo", "2.2").do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "cert", "type": "x509"}}`).expect(201).object()["keypair"].(map[string]any)
		if !strings.HasPrefix(kp["public_key"].(string), "-----BEGIN CERTIFICATE-----") || kp["type"] != "x509" {
			t.Errorf("x509 keypair %v", kp)
		}
	})
	t.Run("pagination from 2.35", func(t *testing.T) {
		m := e.as("demo", "2.35").do(http.MethodGet, "/os-keypairs?limit=1", "").expect(200).object()
		if len(m["keypairs"].([]any)) != 1 || m["keypairs_links"] == nil {
			t.Errorf("page %v", m)
		}
		e.as("demo", "2.35").do(http.MethodGet, "/os-keypairs?marker=zzz", "").expectFault(400, "badRequest", "Marker zzz could not be found.")
	})
}

// Nova keypair names are per user: two users of one tenant each own a "prod", and each
// sees, shows, boots with and deletes their own.
func TestKeypairsPerUser(t *testing.T) {
	// The creator's "prod", made with kubectl: any object name, the Nova name in spec.name.
	creators := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "prod", UID: "kp-uid-3", CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.KeypairSpec{Name: "prod", Type: "ssh", UserID: "creator", PublicKey: testPublicKey}}
	e := newEnv(t, standard(creators)...)
	admin := e.as("admin", "2.2")

	kp := admin.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "prod"}}`).expect(201).object()["keypair"].(map[string]any)
	if kp["user_id"] != "admin" || kp["private_key"] == nil {
		t.Errorf("admin's prod %v", kp)
	}
	shown := admin.do(http.MethodGet, "/os-keypairs/prod", "").expect(200).object()["keypair"].(map[string]any)
	if shown["user_id"] != "admin" || shown["fingerprint"] != kp["fingerprint"] {
		t.Errorf("admin shows %v", shown)
	}
	mine := e.as("creator", "2.2").do(http.MethodGet, "/os-keypairs/prod", "").expect(200).object()["keypair"].(map[string]any)
	if mine["user_id"] != "creator" || mine["fingerprint"] != "1f:cd:f4:8c:f3:52:81:97:5b:e0:36:58:bd:1e:d6:98" {
		t.Errorf("creator shows %v", mine)
	}
	list := admin.do(http.MethodGet, "/os-keypairs", "").expect(200).object()["keypairs"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["keypair"].(map[string]any)["fingerprint"] != kp["fingerprint"] {
		t.Errorf("admin lists %v", list)
	}
	admin.do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "prod"}}`).
		expectFault(409, "conflictingRequest", "Key pair 'prod' already exists.")
	e.as("creator", "2.2").do(http.MethodPost, "/os-keypairs", `{"keypair": {"name": "prod"}}`).
		expectFault(409, "conflictingRequest", "Key pair 'prod' already exists.")

	// A server boots with its own user's keypair.
	s := e.as("admin", "2.37").do(http.MethodPost, "/servers", `{"server": {"name": "k", "flavorRef": "1", "imageRef": "`+imageUID+`", "networks": "none", "key_name": "prod"}}`).expect(202).object()["server"].(map[string]any)
	srv := &computev1.Server{}
	var servers computev1.ServerList
	if err := e.c.List(context.Background(), &servers); err != nil {
		t.Fatal(err)
	}
	for i := range servers.Items {
		if string(servers.Items[i].UID) == s["id"] {
			srv = &servers.Items[i]
		}
	}
	if got, err := refs.ServerKeypair(context.Background(), e.c, srv); err != nil || got.Spec.UserID != "admin" {
		t.Errorf("server %s boots with %+v (%v)", srv.Name, got, err)
	}

	admin.do(http.MethodDelete, "/os-keypairs/prod", "").expect(204)
	admin.do(http.MethodGet, "/os-keypairs/prod", "").expectFault(404, "itemNotFound", "Keypair prod not found for user admin")
	e.as("creator", "2.2").do(http.MethodGet, "/os-keypairs/prod", "").expect(200)
}

// Two keypairs of one user with one name (two kubectl creates that raced past the
// webhook): every reader takes the older, so the user has one "prod".
func TestKeypairDuplicateOlderWins(t *testing.T) {
	older := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "zz-prod", UID: "kp-uid-4", CreationTimestamp: metav1.NewTime(base)},
		Spec: computev1.KeypairSpec{Name: "prod", Type: "ssh", UserID: "demo", PublicKey: testPublicKey}}
	newer := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "aa-prod", UID: "kp-uid-5", CreationTimestamp: metav1.NewTime(base.Add(time.Second))},
		Spec: computev1.KeypairSpec{Name: "prod", Type: "ssh", UserID: "demo", PublicKey: otherPublicKey}}
	e := newEnv(t, standard(older, newer)...)
	list := e.do(http.MethodGet, "/os-keypairs", "").expect(200).object()["keypairs"].([]any)
	var prods []any
	for _, k := range list {
		if kp := k.(map[string]any)["keypair"].(map[string]any); kp["name"] == "prod" {
			prods = append(prods, kp)
		}
	}
	if len(prods) != 1 || prods[0].(map[string]any)["public_key"] != testPublicKey {
		t.Errorf("listed %v", prods)
	}
	shown := e.do(http.MethodGet, "/os-keypairs/prod", "").expect(200).object()["keypair"].(map[string]any)
	if shown["public_key"] != testPublicKey {
		t.Errorf("shown %v", shown)
	}
}

const otherPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"
