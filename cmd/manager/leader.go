package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Leader election: two managers may run (the manifests run two replicas); the one holding
// the Lease kova-system/manager.compute.kova.dev runs everything that acts (controllers,
// the simulated driver's state, its debug server), while both serve the admission
// webhooks and the probes. A killed leader's Lease expires after the lease duration and
// the standby takes it at its next retry; a leader stopped with SIGTERM releases it at once.

// leaderElectionID is the name of the Lease.
const leaderElectionID = "manager.compute.kova.dev"

// defaultLeaderElectionNamespace is where the Lease lives out of cluster; in a cluster
// it is the manager's own namespace.
const defaultLeaderElectionNamespace = "kova-system"

// inClusterNamespaceFile names the namespace of a pod's ServiceAccount (a variable for tests).
var inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=kova-system,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",namespace=kova-system,resources=events,verbs=create;patch

// leaderFlags are the manager's leader election settings.
type leaderFlags struct {
	elect               bool
	namespace           string
	lease, renew, retry time.Duration
}

func (l *leaderFlags) bind(fs *flag.FlagSet) {
	fs.BoolVar(&l.elect, "leader-elect", false, "Elect a leader, so only one manager acts at a time (run two replicas with it).")
	fs.StringVar(&l.namespace, "leader-election-namespace", "",
		"Namespace of the leader election Lease; empty: the pod's own namespace in a cluster, "+defaultLeaderElectionNamespace+" out of it.")
	fs.DurationVar(&l.lease, "leader-election-lease-duration", 15*time.Second,
		"How long a standby waits after the leader's last renewal before it takes the Lease: the longest a dead leader leaves Kova idle.")
	fs.DurationVar(&l.renew, "leader-election-renew-deadline", 10*time.Second,
		"How long the leader tries to renew the Lease before it gives up leading (and exits); less than the lease duration.")
	fs.DurationVar(&l.retry, "leader-election-retry-period", 2*time.Second,
		"How often candidates try to acquire or renew the Lease.")
}

// apply sets the manager's leader election options.
func (l *leaderFlags) apply(o *ctrl.Options) error {
	if !l.elect {
		return nil
	}
	if l.retry <= 0 || l.renew <= l.retry || l.lease <= l.renew {
		return fmt.Errorf("leader election wants retry period (%v) < renew deadline (%v) < lease duration (%v)", l.retry, l.renew, l.lease)
	}
	ns, err := l.leaseNamespace()
	if err != nil {
		return err
	}
	o.LeaderElection = true
	o.LeaderElectionID = leaderElectionID
	o.LeaderElectionNamespace = ns
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &l.lease, &l.renew, &l.retry
	// A manager that stops on SIGTERM (a rollout, a drain) has stopped every runnable
	// when it releases, so the standby takes over at once instead of a lease later.
	o.LeaderElectionReleaseOnCancel = true
	return nil
}

// leaseNamespace is --leader-election-namespace, else the pod's namespace, else kova-system.
func (l *leaderFlags) leaseNamespace() (string, error) {
	if l.namespace != "" {
		return l.namespace, nil
	}
	data, err := os.ReadFile(inClusterNamespaceFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return defaultLeaderElectionNamespace, nil
	case err != nil:
		return "", fmt.Errorf("reading the pod's namespace for leader election: %w", err)
	}
	if ns := strings.TrimSpace(string(data)); ns != "" {
		return ns, nil
	}
	return defaultLeaderElectionNamespace, nil
}
