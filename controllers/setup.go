package controllers

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/rules"
)

// Options configure the controllers and the compute driver.
type Options struct {
	// PublicNamespace holds public images and shared networks.
	PublicNamespace string
	// StateDir is where the simulated driver keeps its state ("" = memory only).
	StateDir string
	// StepLatency is the simulated time per task step.
	StepLatency time.Duration
	// Hosts are the simulated hypervisors, as compute.ParseHosts reads them ("" = defaults).
	Hosts string
	// AllocationRatios overcommit the simulated hosts as Nova's placement does (zero ratios
	// are Nova's defaults: cpu 4.0, ram 1.0, disk 1.0).
	AllocationRatios compute.AllocationRatios
	// Addresses is the address allocator; nil makes one (NewAddressAllocator).
	Addresses *ipam.Allocator
	// Workers is how many servers reconcile at once.
	Workers int
	// KeepShelved keeps a shelved server on its host until shelveOffload, as Nova does
	// with shelved_offload_time -1; by default it is offloaded at once.
	KeepShelved bool
	// PowerSyncInterval is how often a settled server's instance is read again when no
	// driver event said it changed (Nova's sync_power_state_interval).
	PowerSyncInterval time.Duration
	// SimDebugAddress is a loopback host:port where the simulated driver takes changes
	// behind Kova's back (compute.Simulated.DebugHandler), for demos; "" serves nothing.
	SimDebugAddress string
	// SharedNetworks are made in the public namespace when the manager leads, if missing.
	SharedNetworks []SharedNetwork
	// SpawnLog is a file where the simulated driver appends every spawn it begins
	// (compute.SimulatedConfig.SpawnLog); "" keeps none.
	SpawnLog string
	// Clock is the image-schedule controller's (nil: the real one), ImageScheduleCheck the
	// longest it waits before it looks at a scheduled server again (0: the default).
	Clock              clock.PassiveClock
	ImageScheduleCheck time.Duration
	// HistoryRetention is how long a deleted server's actions are kept (0: the default,
	// rules.DefaultHistoryRetention).
	HistoryRetention time.Duration
}

// BindFlags adds the options to a flag set.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.PublicNamespace, "public-namespace", rules.DefaultPublicNamespace, "Namespace of the public images and shared networks every tenant sees.")
	fs.StringVar(&o.StateDir, "sim-state-dir", "", "Directory where the simulated driver keeps its hypervisors' state; empty keeps it in memory.")
	fs.DurationVar(&o.StepLatency, "sim-step-latency", 500*time.Millisecond, "Simulated time each step of a task takes.")
	fs.StringVar(&o.Hosts, "sim-hosts", "", `Simulated hosts, e.g. "h1:vcpus=8,ram=16384,disk=100;h2:vcpus=4,ram=8192,disk=50"; empty for four large hosts.`)
	fs.Float64Var(&o.AllocationRatios.CPU, "cpu-allocation-ratio", compute.DefaultCPUAllocationRatio,
		"Virtual CPUs a simulated host offers per physical one (Nova's cpu_allocation_ratio).")
	fs.Float64Var(&o.AllocationRatios.RAM, "ram-allocation-ratio", compute.DefaultRAMAllocationRatio,
		"RAM a simulated host offers per MiB it has (Nova's ram_allocation_ratio).")
	fs.Float64Var(&o.AllocationRatios.Disk, "disk-allocation-ratio", compute.DefaultDiskAllocationRatio,
		"Disk a simulated host offers per GiB it has (Nova's disk_allocation_ratio).")
	fs.IntVar(&o.Workers, "workers", 16, "Servers reconciled at once.")
	fs.DurationVar(&o.PowerSyncInterval, "power-sync-interval", DefaultPowerSyncInterval,
		"How often a settled server's instance is read again without a driver event (Nova's sync_power_state_interval); 0 only on events.")
	fs.StringVar(&o.SimDebugAddress, "sim-debug-address", "",
		"Loopback host:port where the simulated driver takes changes behind Kova's back (POST /instances/{uid}/behind-kova?power=shutdown), for demos; empty serves nothing.")
	fs.StringVar(&o.SpawnLog, "sim-spawn-log", "", "File where the simulated driver appends one JSON line per spawn it begins (an audit shared by every replica); empty keeps none.")
	fs.Func("shared-networks", `Shared networks the manager makes in the public namespace if missing: "rackspace" (public `+
		`00000000-0000-0000-0000-000000000000 and ServiceNet 11111111-1111-1111-1111-111111111111, the default) or "none".`,
		func(v string) error {
			switch v {
			case "rackspace":
				o.SharedNetworks = RackspaceSharedNetworks()
			case "none":
				o.SharedNetworks = nil
			default:
				return fmt.Errorf("want rackspace or none, not %q", v)
			}
			return nil
		})
	o.SharedNetworks = RackspaceSharedNetworks()
	fs.DurationVar(&o.HistoryRetention, "deleted-server-history-retention", rules.DefaultHistoryRetention,
		"How long a deleted server's actions (os-instance-actions, from 2.21) are kept after it is gone; Nova keeps them until its operator archives deleted rows.")
	fs.BoolVar(&o.KeepShelved, "keep-shelved", false, "Keep shelved servers on their host until shelveOffload (Nova's shelved_offload_time -1).")
}

// NewDriver builds the simulated compute driver the options describe, as a standby: it
// reads its state directory only when Load is called, which Setup does once the manager
// leads, since a standby shares that directory with the leader (see SimulatedConfig.Standby).
func (o Options) NewDriver() (*compute.Simulated, error) {
	cfg := compute.SimulatedConfig{StateDir: o.StateDir, StepLatency: o.StepLatency, Standby: true, SpawnLog: o.SpawnLog,
		AllocationRatios: o.AllocationRatios}
	if o.Hosts != "" {
		hosts, err := compute.ParseHosts(o.Hosts)
		if err != nil {
			return nil, fmt.Errorf("--sim-hosts: %w", err)
		}
		cfg.Hosts = hosts
	}
	return compute.NewSimulated(cfg)
}

// Setup registers every controller with the manager, on a driver built from the options.
// Everything that acts runs only on the leader (controller-runtime's default for
// controllers and plain runnables): the controllers, the driver's state loading, the debug
// server. The webhooks and the probes serve on every replica.
func Setup(mgr manager.Manager, o Options) error {
	driver, err := o.NewDriver()
	if err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if err := driver.Load(); err != nil {
			return fmt.Errorf("loading the simulated driver's state: %w", err)
		}
		ids, err := driver.List(ctx)
		log.FromContext(ctx).Info("Leading: loaded the simulated driver's state", "instances", len(ids), "stateDir", o.StateDir)
		return err
	})); err != nil {
		return err
	}
	if o.SimDebugAddress != "" {
		if err := addDebugServer(mgr, o.SimDebugAddress, driver); err != nil {
			return err
		}
	}
	return SetupWithDriver(mgr, o, driver)
}

// addDebugServer serves the simulated driver's debug endpoint on addr, which must be on
// loopback: it changes the hypervisors' state without asking anyone.
func addDebugServer(mgr manager.Manager, addr string, sim *compute.Simulated) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--sim-debug-address: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--sim-debug-address: %s is not a loopback address", host)
	}
	return mgr.Add(&manager.Server{Name: "sim-debug", OnlyServeWhenLeader: true, Server: &http.Server{
		Addr: addr, Handler: sim.DebugHandler(), ReadHeaderTimeout: 10 * time.Second,
	}})
}

// SetupWithDriver registers every controller on the given driver.
func SetupWithDriver(mgr manager.Manager, o Options, driver compute.Driver) error {
	c := mgr.GetClient()
	addrs := o.Addresses
	if addrs == nil {
		addrs = NewAddressAllocator(mgr, o.PublicNamespace)
	}
	if err := (&ServerReconciler{
		Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Driver: driver,
		Recorder: mgr.GetEventRecorder("server-controller"), PublicNamespace: o.PublicNamespace,
		OffloadShelved: !o.KeepShelved, PowerSyncInterval: o.PowerSyncInterval, Addresses: addrs,
	}).SetupWithManager(mgr, max(o.Workers, 1)); err != nil {
		return fmt.Errorf("server controller: %w", err)
	}
	if err := (&ServerActionReconciler{Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Retention: o.HistoryRetention}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("serveraction controller: %w", err)
	}
	if err := (&ImageMemberReconciler{Client: c, APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&ImageReconciler{Client: c}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("image controller: %w", err)
	}
	if err := (&ImageScheduleReconciler{Client: c, Clock: o.Clock, Check: o.ImageScheduleCheck}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("image-schedule controller: %w", err)
	}
	if err := (&KeypairReconciler{Client: c, APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("keypair controller: %w", err)
	}
	if err := (&NetworkReconciler{Client: c, Addresses: addrs}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("network controller: %w", err)
	}
	if err := (&FloatingIPReconciler{Client: c, Addresses: addrs, PublicNamespace: o.PublicNamespace}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("floating IP controller: %w", err)
	}
	if err := (&DefaultSecurityGroupReconciler{Client: c}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("default security group controller: %w", err)
	}
	if err := (&QuotaReconciler{Client: c, APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("quota controller: %w", err)
	}
	if len(o.SharedNetworks) > 0 {
		return addSharedNetworks(mgr, o.PublicNamespace, o.SharedNetworks)
	}
	return nil
}
