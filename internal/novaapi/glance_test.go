package novaapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/imagestore"
)

const patchType = "application/openstack-images-v2.1-json-patch"

// newGlanceEnv is newEnv serving the image API, with a store in a temporary directory.
func newGlanceEnv(t *testing.T, objs ...*computev1.Image) *env {
	t.Helper()
	var all []client.Object
	for _, o := range objs {
		all = append(all, o)
	}
	e := newEnv(t, all...)
	store, err := imagestore.New(t.TempDir(), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	e.root = "https://127.0.0.1:8774/image"
	e.h = Glance(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, Admins: e.admins, PublicNamespace: public, ImageStore: store})
	return e
}

// keysInOrder are the keys of a JSON object as written.
func keysInOrder(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestGlanceImageLifecycle(t *testing.T) {
	e := newGlanceEnv(t, cirros())

	r := e.do(http.MethodPost, "/images", `{"name": "kt1", "disk_format": "raw", "container_format": "bare", "tags": ["a"], "foo": "bar"}`).expect(201)
	// The peer's answer to the same create (Glance 25, Zed): the same keys in the same order.
	want := "foo name disk_format container_format visibility size virtual_size status checksum protected min_ram min_disk " +
		"owner os_hidden os_hash_algo os_hash_value id created_at updated_at tags self file schema"
	if got := strings.Join(keysInOrder(t, r.Body.Bytes()), " "); got != want {
		t.Errorf("keys\n got %s\nwant %s", got, want)
	}
	img := r.object()
	id := img["id"].(string)
	if img["status"] != "queued" || img["visibility"] != "shared" || img["size"] != nil || img["checksum"] != nil || img["owner"] != tenant {
		t.Errorf("created %v", img)
	}
	if loc := r.Header().Get("Location"); loc != e.root+"/v2/images/"+id {
		t.Errorf("Location %q", loc)
	}

	e.do(http.MethodGet, "/images/"+id+"/file", "").expect(204)
	e.do(http.MethodPut, "/images/"+id+"/file", "hello\n", "Content-Type", "application/octet-stream").expect(204)
	img = e.do(http.MethodGet, "/images/"+id, "").expect(200).object()
	// The peer's hashes of "hello\n".
	if img["status"] != "active" || img["size"] != float64(6) || img["checksum"] != "b1946ac92492d2347c6235b4d2611184" ||
		img["os_hash_algo"] != "sha512" || !strings.HasPrefix(img["os_hash_value"].(string), "e7c22b994c59d9cf") {
		t.Errorf("after upload %v", img)
	}
	r = e.do(http.MethodGet, "/images/"+id+"/file", "").expect(200)
	if r.Body.String() != "hello\n" || r.Header().Get("Content-Md5") != "b1946ac92492d2347c6235b4d2611184" {
		t.Errorf("download %q %v", r.Body.String(), r.Header())
	}
	r = e.do(http.MethodPut, "/images/"+id+"/file", "again", "Content-Type", "application/octet-stream", "Accept", "application/json").expect(409)
	if r.Body.String() != `{"message": "Image status transition from active to saving is not allowed<br /><br />\n\n\n", "code": "409 Conflict", "title": "Conflict"}` {
		t.Errorf("second upload %s", r.Body.String())
	}

	e.do(http.MethodPut, "/images/"+id+"/tags/b", "").expect(204)
	e.do(http.MethodPut, "/images/"+id+"/tags/b", "").expect(204)
	e.do(http.MethodDelete, "/images/"+id+"/tags/zzz", "").expect(404)
	img = e.do(http.MethodPatch, "/images/"+id, `[{"op": "replace", "path": "/name", "value": "kt2"}, {"op": "add", "path": "/os_distro", "value": "cirros"}, {"op": "remove", "path": "/foo"}, {"op": "replace", "path": "/protected", "value": true}]`,
		"Content-Type", patchType).expect(200).object()
	if img["name"] != "kt2" || img["os_distro"] != "cirros" || img["foo"] != nil || fmt.Sprint(img["tags"]) != "[a b]" || img["protected"] != true {
		t.Errorf("patched %v", img)
	}
	var list computev1.ImageList
	if err := e.c.List(t.Context(), &list, client.InNamespace(tenant)); err != nil || len(list.Items) != 1 {
		t.Fatalf("%v %v", list.Items, err)
	}
	if obj := list.Items[0]; obj.Spec.Metadata["os_distro"] != "cirros" || obj.Spec.Name != "kt2" {
		t.Errorf("spec %+v", obj.Spec)
	}

	r = e.do(http.MethodDelete, "/images/"+id, "").expect(403)
	if !strings.Contains(r.Body.String(), "Image "+id+" is protected and cannot be deleted.<br /><br />") {
		t.Errorf("protected delete %s", r.Body.String())
	}
	e.do(http.MethodPatch, "/images/"+id, `[{"op": "replace", "path": "/protected", "value": false}]`, "Content-Type", patchType).expect(200)
	e.do(http.MethodDelete, "/images/"+id, "").expect(204)
	r = e.do(http.MethodGet, "/images/"+id, "").expect(404)
	if !strings.Contains(r.Body.String(), "No image found with ID "+id) {
		t.Errorf("after delete %s", r.Body.String())
	}
}

// TestGlanceRefusals compares refusals with the peer's bodies (Accept: application/json).
func TestGlanceRefusals(t *testing.T) {
	own := cirros()
	own.Namespace, own.Name, own.UID, own.Spec.Visibility = tenant, "own", "44444444-0000-0000-0000-000000000000", "private"
	own.Spec.Source = computev1.ImageSource{Upload: &computev1.UploadSource{}}
	own.Status = computev1.ImageStatus{Status: computev1.ImageQueued}
	e := newGlanceEnv(t, cirros(), own)
	path := "/images/" + string(own.UID)
	for _, c := range []struct {
		method, path, body, ct string
		code                   int
		message                string
	}{
		{http.MethodPatch, path, `[{"op": "replace", "path": "/status", "value": "active"}]`, patchType, 403, "Attribute 'status' is read-only.<br /><br />\n\n\n"},
		{http.MethodPatch, path, `[{"op": "remove", "path": "/name"}]`, patchType, 403, "Access was denied to this resource.<br /><br />\nProperty name may not be removed.\n\n"},
		{http.MethodPatch, path, `[{"op": "add", "path": "/location", "value": "x"}]`, patchType, 403, "Attribute 'location' is reserved.<br /><br />\n\n\n"},
		{http.MethodPatch, path, `[{"op": "remove", "path": "/nope"}]`, patchType, 409, "There was a conflict when trying to complete your request.<br /><br />\nProperty nope does not exist.\n\n"},
		{http.MethodPatch, path, `[{"op": "add", "path": "/tags/-", "value": "b"}]`, patchType, 400, "Invalid JSON pointer for this resource: '/tags/-'<br /><br />\n\n\n"},
		{http.MethodPatch, path, `[{"op": "bogus", "path": "/name", "value": "x"}]`, patchType, 400, "Invalid operation: `bogus`. It must be one of the following: add, remove, replace.<br /><br />\n\n\n"},
		{http.MethodPatch, path, `[]`, "application/json", 415, "The request media type application/json is not supported by this server.<br /><br />\n\n\n"},
		{http.MethodPost, "/images", `{"name": "x", "status": "active"}`, "application/json", 403, "Attribute 'status' is read-only.<br /><br />\n\n\n"},
		{http.MethodPost, "/images", `{"name": "x", "min_ram": -1}`, "application/json", 400, "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value<br /><br />\n\n\n"},
		{http.MethodPost, "/images", `notjson`, "application/json", 400, "Malformed JSON in request body.<br /><br />\n\n\n"},
		{http.MethodPost, "/images", `{"name": "x", "visibility": "public"}`, "application/json", 403, "You are not authorized to complete publicize_image action.<br /><br />\n\n\n"},
		{http.MethodGet, "/images?limit=x", "", "", 400, "limit param must be an integer<br /><br />\n\n\n"},
		{http.MethodGet, "/images?limit=-1", "", "", 400, "limit param must be positive<br /><br />\n\n\n"},
		{http.MethodGet, "/images?sort_key=bogus", "", "", 400, "Invalid sort key: bogus. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.<br /><br />\n\n\n"},
		{http.MethodGet, "/images?sort_dir=up", "", "", 400, "Invalid sort direction: up<br /><br />\n\n\n"},
		{http.MethodGet, "/images?sort=name:asc&sort_key=name", "", "", 400, "Old and new sorting syntax cannot be combined<br /><br />\n\n\n"},
		{http.MethodGet, "/images?visibility=bogus", "", "", 400, "Invalid visibility value: bogus<br /><br />\n\n\n"},
		{http.MethodDelete, "/images/" + imageUID, "", "", 403, "You are not authorized to complete delete_image action.<br /><br />\n\n\n"},
		{http.MethodPut, path + "/file", "x", "application/json", 415, "The request media type application/json is not supported by this server.<br /><br />\n\n\n"},
	} {
		t.Run(c.method+" "+c.path+" "+c.body, func(t *testing.T) {
			h := []string{"Accept", "application/json"}
			if c.ct != "" {
				h = append(h, "Content-Type", c.ct)
			}
			r := e.do(c.method, c.path, c.body, h...)
			status := fmt.Sprintf("%d %s", c.code, http.StatusText(c.code))
			want := `{"message": ` + string(marshal(c.message)) + `, "code": "` + status + `", "title": "` + http.StatusText(c.code) + `"}`
			if r.Code != c.code || r.Body.String() != want {
				t.Errorf("%d %s\nwant %d %s", r.Code, r.Body.String(), c.code, want)
			}
		})
	}
	// Without Accept, webob's HTML page, escaped as Python escapes it.
	r := e.do(http.MethodPatch, path, `[{"op": "replace", "path": "/status", "value": "active"}]`, "Content-Type", patchType)
	if want := "<html>\n <head>\n  <title>403 Forbidden</title>\n </head>\n <body>\n  <h1>403 Forbidden</h1>\n  Attribute &#x27;status&#x27; is read-only.<br /><br />\n\n\n\n </body>\n</html>"; r.Body.String() != want {
		t.Errorf("HTML page %q", r.Body.String())
	}
}

func TestGlanceListPages(t *testing.T) {
	e := newGlanceEnv(t, cirros())
	var ids []string
	for i := range 3 {
		r := e.do(http.MethodPost, "/images", fmt.Sprintf(`{"name": "img-%d", "tags": ["t%d", "all"]}`, i, i%2)).expect(201)
		ids = append(ids, r.object()["id"].(string))
	}
	m := e.do(http.MethodGet, "/images?limit=2&sort_key=name&sort_dir=asc", "").expect(200).object()
	names := func(m map[string]any) []string {
		var out []string
		for _, i := range m["images"].([]any) {
			out = append(out, i.(map[string]any)["name"].(string))
		}
		return out
	}
	if fmt.Sprint(names(m)) != "[cirros-0.6.2-x86_64-disk img-0]" || m["first"] != "/v2/images?limit=2&sort_key=name&sort_dir=asc" {
		t.Errorf("page 1 %v", m)
	}
	next, _ := m["next"].(string)
	if next != "/v2/images?limit=2&sort_key=name&sort_dir=asc&marker="+ids[0] {
		t.Fatalf("next %q", next)
	}
	m = e.do(http.MethodGet, strings.TrimPrefix(next, "/v2"), "").expect(200).object()
	if fmt.Sprint(names(m)) != "[img-1 img-2]" {
		t.Errorf("page 2 %v", m)
	}
	m = e.do(http.MethodGet, "/images?tag=t0&tag=all&sort_key=name", "").expect(200).object()
	if fmt.Sprint(names(m)) != "[img-2 img-0]" || m["next"] != nil {
		t.Errorf("tags, by name descending: %v", m)
	}
	m = e.do(http.MethodGet, "/images?visibility=public&status=active", "").expect(200).object()
	if fmt.Sprint(names(m)) != "[cirros-0.6.2-x86_64-disk]" {
		t.Errorf("public: %v", m)
	}
	e.do(http.MethodGet, "/images?marker=00000000-0000-0000-0000-000000000000", "").expect(400)
}
