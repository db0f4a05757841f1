package novaapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
)

func serverOf(r *response) map[string]any {
	r.t.Helper()
	return r.object()["server"].(map[string]any)
}

// TestIdempotentCreate: a create retried with the same Idempotency-Key, by the same user in
// the same tenant, answers with the first one's server and makes no second one.
func TestIdempotentCreate(t *testing.T) {
	e := newEnv(t, standard()...).as("demo", "2.37")
	body := createBody("")
	first := e.do(http.MethodPost, "/servers", body, headerIdempotencyKey, "k-1").expect(http.StatusAccepted)
	retry := e.do(http.MethodPost, "/servers", body, headerIdempotencyKey, "k-1").expect(http.StatusAccepted)
	s1, s2 := serverOf(first), serverOf(retry)
	if s1["id"] != s2["id"] || first.Header().Get("Location") != retry.Header().Get("Location") {
		t.Errorf("retry answered %v at %s, first %v at %s", s2["id"], retry.Header().Get("Location"), s1["id"], first.Header().Get("Location"))
	}
	if n := len(e.servers()); n != 1 {
		t.Fatalf("%d servers after a retry, want 1", n)
	}
	// The generated password was given once and is kept nowhere: the retry has none.
	if _, ok := s2["adminPass"]; ok || len(s1["adminPass"].(string)) != 12 {
		t.Errorf("adminPass first %v, retry %v", s1["adminPass"], s2["adminPass"])
	}
	if got, want := keysOf(s2), without(keysOf(s1), "adminPass"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("retry keys %v, want %v", got, want)
	}

	t.Run("the same request serialised again is the same request", func(t *testing.T) {
		again := `{"server":{"networks":"none","imageRef":"` + imageUID + `","flavorRef":"1","name":"q"}}`
		if s := serverOf(e.do(http.MethodPost, "/servers", again, headerIdempotencyKey, `"k-1"`).expect(http.StatusAccepted)); s["id"] != s1["id"] {
			t.Errorf("id %v, want %v", s["id"], s1["id"])
		}
	})
	t.Run("a password the client gave is given back", func(t *testing.T) {
		b := createBody(`, "adminPass": "mine"`)
		e.do(http.MethodPost, "/servers", b, headerIdempotencyKey, "k-pw").expect(http.StatusAccepted)
		if s := serverOf(e.do(http.MethodPost, "/servers", b, headerIdempotencyKey, "k-pw").expect(http.StatusAccepted)); s["adminPass"] != "mine" {
			t.Errorf("adminPass %v", s["adminPass"])
		}
	})
	t.Run("another request with the key is a conflict", func(t *testing.T) {
		e.do(http.MethodPost, "/servers", createBody(`, "metadata": {"a": "b"}`), headerIdempotencyKey, "k-1").expectFault(http.StatusConflict,
			"conflictingRequest", "This Idempotency-Key was already used for another request; use a new key for a new request.")
	})
	t.Run("keys are per user", func(t *testing.T) {
		s := serverOf(e.as("admin", "2.37").do(http.MethodPost, "/servers", body, headerIdempotencyKey, "k-1").expect(http.StatusAccepted))
		if s["id"] == s1["id"] {
			t.Error("another user's create with the same key got the first user's server")
		}
	})
	t.Run("no key, no memory", func(t *testing.T) {
		a := serverOf(e.do(http.MethodPost, "/servers", body).expect(http.StatusAccepted))
		b := serverOf(e.do(http.MethodPost, "/servers", body).expect(http.StatusAccepted))
		if a["id"] == b["id"] {
			t.Error("two creates without a key made one server")
		}
	})
	t.Run("a key that is no key", func(t *testing.T) {
		for _, k := range []string{strings.Repeat("k", 256), "tab\there", "ünï"} {
			e.do(http.MethodPost, "/servers", body, headerIdempotencyKey, k).expectFault(http.StatusBadRequest, "badRequest",
				"Invalid Idempotency-Key header: give one key of 1 to 255 printable ASCII characters.")
		}
	})
	t.Run("return_reservation_id gives the first's reservation again", func(t *testing.T) {
		b := createBody(`, "return_reservation_id": true, "max_count": 2`)
		r1 := e.do(http.MethodPost, "/servers", b, headerIdempotencyKey, "k-res").expect(http.StatusAccepted).object()
		r2 := e.do(http.MethodPost, "/servers", b, headerIdempotencyKey, "k-res").expect(http.StatusAccepted).object()
		if r1["reservation_id"] == nil || r1["reservation_id"] != r2["reservation_id"] {
			t.Errorf("reservations %v %v", r1, r2)
		}
	})
}

// TestIdempotentCreateRaces: retries that race make one server, and every one of them is
// answered with it.
func TestIdempotentCreateRaces(t *testing.T) {
	e := newEnv(t, standard()...).as("demo", "2.37")
	const racers = 8
	ids := make([]any, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			r := e.do(http.MethodPost, "/servers", createBody(`, "max_count": 3`), headerIdempotencyKey, "race")
			if r.Code != http.StatusAccepted {
				t.Errorf("racer %d: %d %s", i, r.Code, r.Body.String())
				return
			}
			ids[i] = serverOf(r)["id"]
		})
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Errorf("racer %d got %v, racer 0 %v", i, ids[i], ids[0])
		}
	}
	if n := len(e.servers()); n != 3 {
		t.Errorf("%d racing creates of max_count 3 made %d servers, want 3", racers, n)
	}
}

// TestIdempotentRetryAtTheQuota: a retry is answered before the quota is counted, which
// already holds the first one's servers.
func TestIdempotentRetryAtTheQuota(t *testing.T) {
	e := newEnvCreating(t, Config{}, nil, standard(existing(9)...)...).as("demo", "2.37")
	first := serverOf(e.do(http.MethodPost, "/servers", createBody(""), headerIdempotencyKey, "last").expect(http.StatusAccepted))
	retry := serverOf(e.do(http.MethodPost, "/servers", createBody(""), headerIdempotencyKey, "last").expect(http.StatusAccepted))
	if first["id"] != retry["id"] {
		t.Errorf("retry %v, first %v", retry["id"], first["id"])
	}
	e.do(http.MethodPost, "/servers", createBody(""), headerIdempotencyKey, "one-more").expectFault(http.StatusForbidden, "forbidden",
		"Quota exceeded for instances: Requested 1, but already used 10 of 10 instances")
}

// TestFlexCloudIdempotentCreate: FlexCloud's create takes the key too.
func TestFlexCloudIdempotentCreate(t *testing.T) {
	e := newEnv(t, standard()...)
	prefix := "http://api.example/accounts/demo/flexcloud"
	body := `{"server": {"flavorRef": "` + prefix + `/flavors/1/", "name": "flex", "imageRef": "` + prefix + `/images/` + imageUID + `/"}}`
	flex := func(key string) *response {
		h := FlexCloud(Config{Client: e.c, Cache: e.c, ServerUIDs: listedUIDs{e.c}, PublicNamespace: public})
		r := httptest.NewRequest(http.MethodPost, "/servers", strings.NewReader(body))
		r.Header.Set(headerIdempotencyKey, key)
		r = r.WithContext(WithCaller(r.Context(), Caller{User: &user.DefaultInfo{Name: "demo"}, Tenant: "demo", Root: prefix}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return &response{ResponseRecorder: w, t: t}
	}
	a, b := serverOf(flex("f-1").expect(http.StatusAccepted)), serverOf(flex("f-1").expect(http.StatusAccepted))
	if a["id"] != b["id"] {
		t.Errorf("retry %v, first %v", b["id"], a["id"])
	}
	if _, ok := b["adminPass"]; ok {
		t.Error("a retry gave a password again")
	}
	if n := len(e.servers()); n != 1 {
		t.Errorf("%d servers, want 1", n)
	}
}

// The fingerprint kept on a Server must not be a hash of the password a client chose: an
// unsalted hash could be tested offline by anyone who may read the server.
func TestIdempotencyFingerprintLeavesPasswordOut(t *testing.T) {
	a := canonicalJSON([]byte(`{"server": {"name": "a", "adminPass": "hunter2"}}`))
	b := canonicalJSON([]byte(`{"server":{"adminPass":"other","name":"a"}}`))
	if string(a) != string(b) {
		t.Fatalf("bodies that differ only in adminPass fingerprint differently: %s vs %s", a, b)
	}
	if strings.Contains(string(a), "hunter2") {
		t.Fatalf("the canonical body keeps the password: %s", a)
	}
}
