package bench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/testenv"
)

// BenchmarkMemory is issue 11's memory row as a deployment has it: the manager and nova-api
// built and run as processes by localcp (make run's stack) with the manifests' collector
// setting (GOGC=50), zero simulated latency and two large hosts. 1,000 servers are booted
// at 16 clients, then 9,000 more; the resident memory of the two processes (VmRSS, and its
// anonymous and file-backed parts) is read before, as soon as each fleet is ACTIVE (where
// boot_ratio.py's --rss-pids reads it), and again once the runtime has given back the free
// memory the burst left (settled).
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	st := startProcessStack(b, "50")
	defer st.stop()
	c := st.client(b)
	const tenant = "mem"
	unlimited := int64(-1)
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
		&computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "private"}, Spec: computev1.NetworkSpec{CIDR: "10.9.0.0/18"}},
		&computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: computev1.QuotaName},
			Spec: computev1.QuotaLimits{Instances: &unlimited, Cores: &unlimited, RAM: &unlimited}},
	} {
		if err := c.Create(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	active := watchActive(ctx, b, st.cfg)
	boot := func(n, from, to int) {
		before := active()
		parallel(b, to-from, func(i int) error {
			return c.Create(ctx, &computev1.Server{
				ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: fmt.Sprintf("m-%d-%d", n, from+i)},
				Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros-0.6.2", PowerState: computev1.PowerActive,
					Networks: []computev1.NetworkAttachment{{Name: "private"}}},
			})
		})
		untilActive(b, ctx, active, before+to-from)
	}
	b.ResetTimer()
	for n := range b.N {
		at0 := st.memory(b)
		boot(n, 0, 1000)
		at1k := st.memory(b)
		boot(n, 1000, 10000)
		at10k := st.memory(b)
		settled := st.settled(b, at10k)

		per1000 := func(a, z memSample, n float64) float64 { return (z.rss - a.rss) * 1000 / n }
		b.ReportMetric(per1000(at0, at1k, 1000), "rss-MiB/1000@1000")
		b.ReportMetric(per1000(at0, at10k, 10000), "rss-MiB/1000@10000")
		b.ReportMetric(per1000(at1k, at10k, 9000), "rss-MiB/1000-1000to10000")
		b.ReportMetric(per1000(at0, settled, 10000), "settled-rss-MiB/1000@10000")
		for _, s := range []struct {
			what string
			m    memSample
		}{{"before", at0}, {"1,000 ACTIVE", at1k}, {"10,000 ACTIVE", at10k}, {"10,000, settled", settled}} {
			b.Logf("%-22s manager + nova-api: RSS %6.1f MiB (anonymous %6.1f, file %5.1f); manager %6.1f, nova-api %6.1f",
				s.what, s.m.rss, s.m.anon, s.m.file, s.m.by["manager"], s.m.by["nova-api"])
		}
		b.Logf("RSS growth per 1,000 servers: %.1f MiB at 1,000, %.1f at 10,000 (%.1f from 1,000 to 10,000), %.1f at 10,000 settled; anonymous only at 10,000: %.1f",
			per1000(at0, at1k, 1000), per1000(at0, at10k, 10000), per1000(at1k, at10k, 9000), per1000(at0, settled, 10000),
			(at10k.anon-at0.anon)*1000/10000)
	}
}

// settled reads the memory every memSettleEvery, from last, until it holds still (moves by
// less than memSettleBy between reads) or memSettleMax has passed: the runtime gives back
// the free memory of a burst at its own pace, and a heap goes on growing toward its next
// collection after it.
func (st *processStack) settled(b *testing.B, last memSample) memSample {
	err := wait.PollUntilContextTimeout(context.Background(), memSettleEvery, memSettleMax, false, func(context.Context) (bool, error) {
		now := st.memory(b)
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
	by              map[string]float64 // VmRSS by process
}

// processStack is localcp run as a process with freshly built binaries.
type processStack struct {
	dir     string
	cmd     *exec.Cmd
	bins    map[string]string // the manager's and nova-api's executables
	cfg     *rest.Config
	logFile *os.File
}

// startProcessStack builds localcp, the manager and nova-api into a temporary folder and runs
// them with the control plane of `make control-plane`, GOGC=goGC for the two, until the
// stack is set up (localcp's demo tokens written).
func startProcessStack(b *testing.B, goGC string) *processStack {
	root, tmp := testenv.Root(), b.TempDir()
	if _, err := os.Stat(filepath.Join(testenv.BinDir(), "kube-apiserver")); err != nil {
		b.Fatalf("no control-plane binaries in %s: run make control-plane", testenv.BinDir())
	}
	st := &processStack{dir: tmp, bins: map[string]string{}}
	for _, name := range []string{"localcp", "manager", "nova-api"} {
		out := filepath.Join(tmp, name)
		build := exec.Command("go", "build", "-o", out, "./cmd/"+name)
		build.Dir = root
		if msg, err := build.CombinedOutput(); err != nil {
			b.Fatalf("building %s: %v: %s", name, err, msg)
		}
		st.bins[name] = out
	}
	ports := make([]int, 2)
	for i := range ports {
		p, err := localcp.FreePort()
		if err != nil {
			b.Fatal(err)
		}
		ports[i] = p
	}
	data := filepath.Join(tmp, "data")
	log, err := os.Create(filepath.Join(tmp, "localcp.log"))
	if err != nil {
		b.Fatal(err)
	}
	st.logFile = log
	st.cmd = exec.Command(st.bins["localcp"], "--bin-dir", testenv.BinDir(), "--config-dir", filepath.Join(root, "config"),
		"--data-dir", data, "--manager", st.bins["manager"], "--nova-api", st.bins["nova-api"],
		"--nova-api-direct-address", "127.0.0.1:"+strconv.Itoa(ports[0]), "--sim-debug-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--go-gc", goGC, "--sim-step-latency", "0",
		"--sim-hosts", "h1:vcpus=4096,ram=4194304,disk=65536;h2:vcpus=4096,ram=4194304,disk=65536")
	st.cmd.Stdout, st.cmd.Stderr = log, log
	st.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := st.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	token := filepath.Join(data, "demo", "operator.token")
	if err := wait.PollUntilContextTimeout(context.Background(), time.Second, 5*time.Minute, true, func(context.Context) (bool, error) {
		info, err := os.Stat(token)
		return err == nil && info.Size() > 0, nil
	}); err != nil {
		st.stop()
		b.Fatalf("the stack was not set up: %v (see %s)", err, log.Name())
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(data, "kubeconfig"))
	if err != nil {
		st.stop()
		b.Fatal(err)
	}
	cfg.QPS = -1
	st.cfg = cfg
	return st
}

func (st *processStack) client(b *testing.B) client.Client {
	c, err := client.New(st.cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// stop ends localcp (it stops its children) and waits for it.
func (st *processStack) stop() {
	_ = st.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = st.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-st.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	_ = st.logFile.Close()
}

// memory reads the resident memory of the running manager and nova-api (found by their
// executables among localcp's children).
func (st *processStack) memory(b *testing.B) memSample {
	m := memSample{by: map[string]float64{}}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil {
			continue
		}
		for _, name := range []string{"manager", "nova-api"} {
			if exe != st.bins[name] {
				continue
			}
			status, err := procStatus(pid)
			if err != nil {
				b.Fatal(err)
			}
			m.rss += status["VmRSS"]
			m.anon += status["RssAnon"]
			m.file += status["RssFile"]
			m.by[name] += status["VmRSS"]
		}
	}
	for _, name := range []string{"manager", "nova-api"} {
		if _, ok := m.by[name]; !ok {
			b.Fatalf("no %s process is running", name)
		}
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
