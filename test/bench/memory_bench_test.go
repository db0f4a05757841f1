package bench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// bigHosts are two simulated hosts that hold 10,000 servers and more.
const bigHosts = "h1:vcpus=4096,ram=4194304,disk=65536;h2:vcpus=4096,ram=4194304,disk=65536"

// BenchmarkMemory is issue 11's memory row as a deployment has it: the manager and nova-api
// built and run as processes (testenv's process stack, as `make run` runs them, with the
// ServiceAccounts and RBAC of config/default) with the manifests' collector setting
// (GOGC=50), zero simulated latency and two large hosts. 1,000 servers are booted at 16
// clients, then 9,000 more; the resident memory of the two processes (VmRSS, and its
// anonymous and file-backed parts) is read before, as soon as each fleet is ACTIVE (where
// boot_ratio.py's --rss-pids reads it), and again, for each fleet, once the runtime has
// given back the free memory the burst left (settled).
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	st, err := testenv.StartProcessStack(ctx, testenv.ProcessStackOptions{
		SimHosts: bigHosts,
		GoGC:     "50",
	})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Stop()
	c, err := client.New(st.CP.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	const tenant = "mem"
	for _, obj := range testenv.Fixtures(tenant, &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
		Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}}, "10.9.0.0/18") {
		if err := client.IgnoreAlreadyExists(c.Create(ctx, obj)); err != nil {
			b.Fatal(err)
		}
	}
	unlimitedQuota(ctx, b, c, tenant)
	untilImageActive(ctx, b, c)
	active := watchActive(ctx, b, st.CP.Config)
	boot := func(n, from, to int) {
		before := active()
		createServers(ctx, b, c, tenant, fmt.Sprintf("m-%d", n), from, to-from)
		untilActive(b, ctx, active, before+to-from)
	}
	b.ResetTimer()
	for n := range b.N {
		at0 := memoryOf(b, st)
		boot(n, 0, 1000)
		at1k := memoryOf(b, st)
		settled1k := settledMemory(b, st, at1k)
		boot(n, 1000, 10000)
		at10k := memoryOf(b, st)
		settled := settledMemory(b, st, at10k)

		per1000 := func(a, z memSample, n float64) float64 { return (z.rss - a.rss) * 1000 / n }
		b.ReportMetric(per1000(at0, at1k, 1000), "rss-MiB/1000@1000")
		b.ReportMetric(per1000(at0, at10k, 10000), "rss-MiB/1000@10000")
		b.ReportMetric(per1000(at1k, at10k, 9000), "rss-MiB/1000-1000to10000")
		b.ReportMetric(per1000(at0, settled1k, 1000), "settled-rss-MiB/1000@1000")
		b.ReportMetric(per1000(at0, settled, 10000), "settled-rss-MiB/1000@10000")
		for _, s := range []struct {
			what string
			m    memSample
		}{{"before", at0}, {"1,000 ACTIVE", at1k}, {"1,000, settled", settled1k}, {"10,000 ACTIVE", at10k}, {"10,000, settled", settled}} {
			b.Logf("%-22s manager + nova-api: RSS %6.1f MiB (anonymous %6.1f, file %5.1f); manager %6.1f, nova-api %6.1f",
				s.what, s.m.rss, s.m.anon, s.m.file, s.m.by[testenv.ComponentManager], s.m.by[testenv.ComponentNovaAPI])
		}
		b.Logf("RSS growth per 1,000 servers: %.1f MiB at 1,000 (%.1f settled), %.1f at 10,000 (%.1f from 1,000 to 10,000), %.1f at 10,000 settled; anonymous only at 10,000: %.1f",
			per1000(at0, at1k, 1000), per1000(at0, settled1k, 1000), per1000(at0, at10k, 10000), per1000(at1k, at10k, 9000), per1000(at0, settled, 10000),
			(at10k.anon-at0.anon)*1000/10000)
	}
}

// settledMemory reads the memory every memSettleEvery, from last, until it holds still
// (moves by less than memSettleBy between reads) or memSettleMax has passed: the runtime
// gives back the free memory of a burst at its own pace, and a heap goes on growing toward
// its next collection after it.
func settledMemory(b *testing.B, st *testenv.ProcessStack, last memSample) memSample {
	err := wait.PollUntilContextTimeout(context.Background(), memSettleEvery, memSettleMax, false, func(context.Context) (bool, error) {
		now := memoryOf(b, st)
		moved := math.Abs(now.rss - last.rss)
		last = now
		return moved < memSettleBy, nil
	})
	if err != nil {
		b.Logf("memory still moving after %v", memSettleMax)
	}
	return last
}

const (
	memSettleEvery = 5 * time.Second
	memSettleBy    = 0.5 // MiB
	memSettleMax   = 2 * time.Minute
)

// memSample is the resident memory of the manager and nova-api together, in MiB.
type memSample struct {
	rss, anon, file float64
	by              map[string]float64 // VmRSS by component
}

// memoryOf reads the resident memory of the stack's running manager and nova-api.
func memoryOf(b *testing.B, st *testenv.ProcessStack) memSample {
	m := memSample{by: map[string]float64{}}
	for _, component := range []string{testenv.ComponentManager, testenv.ComponentNovaAPI} {
		pid := st.PID(component)
		if pid == 0 {
			b.Fatalf("no %s process is running", component)
		}
		status, err := procStatus(pid)
		if err != nil {
			b.Fatal(err)
		}
		m.rss += status["VmRSS"]
		m.anon += status["RssAnon"]
		m.file += status["RssFile"]
		m.by[component] = status["VmRSS"]
	}
	return m
}

// procStatus is /proc/<pid>/status's sizes in MiB (its kB fields).
func procStatus(pid int) (map[string]float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(value)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, err
		}
		out[key] = kb / 1024
	}
	return out, sc.Err()
}
