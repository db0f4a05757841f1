package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The fuzzer sends mutated bodies of the main write endpoints (create server, server
// actions, update, metadata, keypairs) and junk (deep nesting, huge numbers, wrong types,
// odd unicode, unknown keys, broken JSON) through both ways in, as a tenant admin (who
// reaches every endpoint), and asserts what a Nova client relies on: no 5xx but Nova's
// honest 501, every error Nova's body ({"<fault>": {"code": N, "message": "..."}} with the
// status's fault name), every success the endpoint's shape, and nova-api's memory (it
// runs in this process) bounded.
//
// It is seeded and bounded: KOVA_FUZZ_SEED replays a run (the seed is printed),
// KOVA_FUZZ_REQUESTS sets how many requests (default 400), and it stops after a minute.
const (
	fuzzTenant        = "fuzz"
	fuzzDefaultN      = 1500
	fuzzMaxDuration   = time.Minute
	fuzzHeapPeakBound = 256 << 20 // above the heap in use before the run
)

// faultNames are Nova's error body keys by status (nova/api/openstack/wsgi.py).
var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
	409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 429: "overLimit",
	501: "notImplemented", 503: "serviceUnavailable",
}

// fuzzTarget is one endpoint: how to reach it, a valid body, and the keys of its answers.
type fuzzTarget struct {
	method, path string
	valid        func(r *rand.Rand) any
	success      []string // top-level keys of a 2xx body; an empty body is always fine
}

func fuzzTargets(imageID, serverID string) []fuzzTarget {
	sp := "servers/" + serverID
	action := func(bodies ...any) func(*rand.Rand) any {
		return func(r *rand.Rand) any { return bodies[r.IntN(len(bodies))] }
	}
	return []fuzzTarget{
		{http.MethodPost, "servers", func(r *rand.Rand) any {
			return map[string]any{"server": map[string]any{
				"name": "fz", "flavorRef": "m1.tiny", "imageRef": imageID, "networks": "none",
				"metadata": map[string]any{"k": "v"}, "max_count": 1, "min_count": 1,
			}}
		}, []string{"server", "reservation_id"}},
		{http.MethodPost, sp + "/action", action(
			map[string]any{"reboot": map[string]any{"type": "SOFT"}},
			map[string]any{"os-stop": nil}, map[string]any{"os-start": nil},
			map[string]any{"pause": nil}, map[string]any{"unpause": nil},
			map[string]any{"lock": map[string]any{"locked_reason": "fuzz"}}, map[string]any{"unlock": nil},
			map[string]any{"rescue": map[string]any{"adminPass": "pw"}}, map[string]any{"unrescue": nil},
			map[string]any{"resize": map[string]any{"flavorRef": "m1.small"}}, map[string]any{"confirmResize": nil},
			map[string]any{"revertResize": nil}, map[string]any{"changePassword": map[string]any{"adminPass": "pw"}},
			map[string]any{"createImage": map[string]any{"name": "fz", "metadata": map[string]any{"k": "v"}}},
			map[string]any{"rebuild": map[string]any{"imageRef": imageID, "name": "fz"}},
			map[string]any{"os-getConsoleOutput": map[string]any{"length": 5}},
		), []string{"adminPass", "image_id", "output", "server"}},
		{http.MethodPut, sp, func(*rand.Rand) any {
			return map[string]any{"server": map[string]any{"name": "fz", "accessIPv4": "10.0.0.1"}}
		}, []string{"server"}},
		{http.MethodPost, sp + "/metadata", func(*rand.Rand) any {
			return map[string]any{"metadata": map[string]any{"k": "v", "k2": "v2"}}
		}, []string{"metadata"}},
		{http.MethodPut, sp + "/metadata", func(*rand.Rand) any {
			return map[string]any{"metadata": map[string]any{"k": "v"}}
		}, []string{"metadata"}},
		{http.MethodPut, sp + "/metadata/k", func(*rand.Rand) any {
			return map[string]any{"meta": map[string]any{"k": "v"}}
		}, []string{"meta"}},
		{http.MethodPost, "os-keypairs", func(r *rand.Rand) any {
			return map[string]any{"keypair": map[string]any{"name": "fz-" + strconv.Itoa(r.IntN(1<<30)), "public_key": fuzzPublicKey}}
		}, []string{"keypair"}},
	}
}

const fuzzPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNuDsfHx+ZIa3Cv0LaJ4FCNFYjWU8C0OpsVydVQxYCr fuzz"

// junk is a JSON value chosen to hurt: deep, huge, odd or of the wrong type.
func junk(r *rand.Rand) json.RawMessage {
	switch r.IntN(14) {
	case 0:
		d := 1 + r.IntN(2000)
		return json.RawMessage(strings.Repeat("[", d) + strings.Repeat("]", d))
	case 1:
		d := 1 + r.IntN(2000)
		return json.RawMessage(strings.Repeat(`{"a":`, d) + "1" + strings.Repeat("}", d))
	case 2:
		return json.RawMessage([]string{"1e400", "-1e400", "99999999999999999999999999", "2147483648", "-0", "1e-400", "0.1", "-1", "1E2"}[r.IntN(9)])
	case 3:
		return json.RawMessage([]string{`"\u0000"`, `"\ud800"`, `"💥🏳️‍🌈"`, `"\u202eevil"`, `"ünïcödé"`, `" lead"`, `"trail "`, `"a\nb"`}[r.IntN(8)])
	case 4:
		return json.RawMessage(strconv.Quote(strings.Repeat("x", r.IntN(70000))))
	case 5:
		return json.RawMessage([]string{"true", "false", "null", "{}", "[]", `""`}[r.IntN(6)])
	case 6:
		return json.RawMessage(`{"unknown": 1, "__proto__": {}, "": ""}`)
	case 7:
		items := make([]string, r.IntN(3000))
		for i := range items {
			items[i] = strconv.Itoa(i)
		}
		return json.RawMessage("[" + strings.Join(items, ",") + "]")
	case 8:
		kv := make([]string, r.IntN(300))
		for i := range kv {
			kv[i] = fmt.Sprintf(`"k%d": "v"`, i)
		}
		return json.RawMessage("{" + strings.Join(kv, ",") + "}")
	case 9:
		return json.RawMessage(`"auto"`)
	case 10:
		return json.RawMessage(`"nova:sim-host-1"`)
	case 11:
		return json.RawMessage(strconv.Itoa(r.IntN(5) - 1))
	default:
		return json.RawMessage(strconv.Quote(fmt.Sprintf("%x", r.Uint64())))
	}
}

// mutate changes one place of a decoded body: drops a key, replaces a value with junk, or
// adds a key.
func mutate(r *rand.Rand, v any) any {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if len(keys) == 0 || r.IntN(6) == 0 {
			t[[]string{"extra", "server", "metadata", "max_count", "min_count", "networks", "availability_zone", "key_name", "user_data", "type"}[r.IntN(10)]] = junk(r)
			return t
		}
		k := keys[r.IntN(len(keys))]
		switch r.IntN(4) {
		case 0:
			delete(t, k)
		case 1:
			t[k] = junk(r)
		default:
			t[k] = mutate(r, t[k])
		}
		return t
	case []any:
		if len(t) > 0 && r.IntN(2) == 0 {
			i := r.IntN(len(t))
			t[i] = mutate(r, t[i])
			return t
		}
		return append(t, junk(r))
	}
	return junk(r)
}

// junkBody is a body that is not a well-formed request at all.
func junkBody(r *rand.Rand, valid []byte) []byte {
	switch r.IntN(9) {
	case 0:
		return valid[:r.IntN(len(valid))]
	case 1:
		return bytes.Repeat([]byte("["), 1+r.IntN(1<<20-1))
	case 2:
		return bytes.Repeat([]byte(`{"a":`), 1+r.IntN(1<<18))
	case 3:
		return append([]byte{0xff, 0xfe}, valid...)
	case 4:
		return []byte([]string{"", "null", "[]", `"s"`, "NaN", "Infinity", "{}", "1"}[r.IntN(8)])
	case 5:
		return append([]byte("\xef\xbb\xbf"), valid...)
	case 6:
		return []byte(`{"server": 1, "server": ` + string(valid) + `}`)
	case 7:
		return bytes.Repeat([]byte("0,"), 1+r.IntN(1<<19-1))
	default:
		return append(valid, []byte(" trailing")...)
	}
}

// checkAnswer says what is wrong with an answer, or nil.
func checkAnswer(code int, header http.Header, body []byte, success []string) error {
	switch {
	case code >= 500 && code != http.StatusNotImplemented:
		return fmt.Errorf("a %d", code)
	case code == http.StatusRequestEntityTooLarge && strings.HasPrefix(header.Get("Content-Type"), "text/html"):
		// A body over the limit meets oslo's sizelimit before Nova: webob's HTML page (which
		// kube-apiserver's proxy re-serializes on the aggregated way: <br/> for <br />).
		if !bytes.Contains(body, []byte("<title>413 Request Entity Too Large</title>")) ||
			!bytes.Contains(body, []byte("Request is too large. Larger than max_request_body_size (")) {
			return fmt.Errorf("a 413 page that is not oslo's: %.300s", body)
		}
	case code >= 400:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
			return fmt.Errorf("a %d whose body is not Nova's error: %.300s", code, body)
		}
		want, ok := faultNames[code]
		if !ok {
			want = "computeFault"
		}
		var f struct {
			Code    *int    `json:"code"`
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(m[want], &f); err != nil || f.Code == nil || *f.Code != code || f.Message == nil {
			return fmt.Errorf("a %d without {%q: {code, message}}: %.300s", code, want, body)
		}
		if strings.Contains(*f.Message, "compute.kova.dev") {
			return fmt.Errorf("a %d in Kubernetes' words: %s", code, *f.Message)
		}
		if ct := header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			return fmt.Errorf("a %d with Content-Type %q", code, ct)
		}
	case code >= 200 && code < 300:
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("a %d whose body is not a JSON object: %.300s", code, body)
		}
		for k := range m {
			if !slices.Contains(success, k) {
				return fmt.Errorf("a %d with key %q, want one of %v: %.300s", code, k, success, body)
			}
		}
	default:
		return fmt.Errorf("status %d", code)
	}
	return nil
}

func fuzzSetting(name string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// heapPeak samples the heap in use until stop is called, and returns the peak.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

var _ = Describe("Fuzzing the write endpoints", func() {
	It("answers every mutated or junk body with Nova's JSON, never a 5xx, in bounded memory", func(ctx SpecContext) {
		seed := fuzzSetting("KOVA_FUZZ_SEED", uint64(time.Now().UnixNano()))
		n := int(fuzzSetting("KOVA_FUZZ_REQUESTS", fuzzDefaultN))
		AddReportEntry("fuzz seed", seed)
		GinkgoWriter.Printf("fuzz seed %d: replay with KOVA_FUZZ_SEED=%d\n", seed, seed)
		By(fmt.Sprintf("fuzzing with seed %d (KOVA_FUZZ_SEED=%d replays it)", seed, seed))
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

		fuzzTokens, err := stack.Tenant(ctx, fuzzTenant)
		Expect(err).NotTo(HaveOccurred())
		token := fuzzTokens["admin"]
		admin := computeFor(token, "direct", fuzzTenant)
		imageID := listImages(ctx, admin)["cirros"]
		admin.Microversion = "2.37"
		target, err := servers.Create(ctx, admin, servers.CreateOpts{Name: "fuzz-target", FlavorRef: "m1.tiny", ImageRef: imageID, Networks: "none"}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitFor(ctx, admin, target.ID, "ACTIVE")
		targets := fuzzTargets(imageID, target.ID)
		clean := func(ctx context.Context) {
			pages, err := servers.List(admin, nil).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			list, err := servers.ExtractServers(pages)
			Expect(err).NotTo(HaveOccurred())
			for _, s := range list {
				if s.ID != target.ID {
					_ = servers.Delete(ctx, admin, s.ID).ExtractErr()
				}
			}
		}
		DeferCleanup(func(ctx SpecContext) {
			clean(ctx)
			_ = servers.Delete(ctx, admin, target.ID).ExtractErr()
		})

		var baseline runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&baseline)
		stopSampling := heapPeak()
		var failures []string
		codes := map[int]int{}
		deadline := time.Now().Add(fuzzMaxDuration)
		sent := 0
		for i := 0; i < n && time.Now().Before(deadline); i++ {
			t := targets[r.IntN(len(targets))]
			valid, err := json.Marshal(t.valid(r))
			Expect(err).NotTo(HaveOccurred())
			body := valid
			switch p := r.IntN(10); {
			case p < 6:
				var v any
				Expect(json.Unmarshal(valid, &v)).To(Succeed())
				for range 1 + r.IntN(3) {
					v = mutate(r, v)
				}
				body, err = json.Marshal(v)
				Expect(err).NotTo(HaveOccurred())
			case p < 9:
				body = junkBody(r, valid)
			}
			way := []string{"direct", "aggregated"}[r.IntN(2)]
			version := []string{"2.1", "2.37", "2.79", "latest"}[r.IntN(4)]
			code, header, answer := rawFor(ctx, token, way, fuzzTenant, t.method, t.path,
				body, map[string]string{"X-OpenStack-Nova-API-Version": version})
			sent++
			if err := checkAnswer(code, header, answer, t.success); err != nil {
				failures = append(failures, fmt.Sprintf("#%d %s %s %s (%s, %d-byte body %.200q): %v", i, way, t.method, t.path, version, len(body), body, err))
			}
			codes[code]++
			if i%50 == 49 {
				clean(ctx)
			}
		}
		peak := stopSampling()
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		GinkgoWriter.Printf("fuzz: %d requests (by status %v), heap in use %d MiB before, peak %d MiB, %d MiB after\n",
			sent, codes, baseline.HeapInuse>>20, peak>>20, after.HeapInuse>>20)
		AddReportEntry("fuzz", fmt.Sprintf("%d requests, heap peak +%d MiB", sent, (int64(peak)-int64(baseline.HeapInuse))>>20))

		Expect(failures).To(BeEmpty(), "seed %d (KOVA_FUZZ_SEED=%d replays it)", seed, seed)
		Expect(peak).To(BeNumerically("<", baseline.HeapInuse+fuzzHeapPeakBound), "nova-api's heap (in this process) at its peak, seed %d", seed)
		Expect(sent).To(BeNumerically(">", 50), "requests sent within %s", fuzzMaxDuration)
	})
})
