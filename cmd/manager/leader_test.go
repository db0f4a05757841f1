package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

func parseLeader(t *testing.T, args ...string) (ctrl.Options, error) {
	t.Helper()
	var l leaderFlags
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	l.bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	var o ctrl.Options
	err := l.apply(&o)
	return o, err
}

func TestLeaderElectionOffByDefault(t *testing.T) {
	o, err := parseLeader(t)
	if err != nil || o.LeaderElection || o.LeaseDuration != nil {
		t.Fatalf("without --leader-elect: %+v, %v", o, err)
	}
}

func TestLeaderElectionOptions(t *testing.T) {
	o, err := parseLeader(t, "--leader-elect", "--leader-election-lease-duration=4s",
		"--leader-election-renew-deadline=3s", "--leader-election-retry-period=1s")
	if err != nil {
		t.Fatal(err)
	}
	if !o.LeaderElection || o.LeaderElectionID != leaderElectionID || !o.LeaderElectionReleaseOnCancel {
		t.Fatalf("options: %+v", o)
	}
	if *o.LeaseDuration != 4*time.Second || *o.RenewDeadline != 3*time.Second || *o.RetryPeriod != time.Second {
		t.Fatalf("timings: %v %v %v", *o.LeaseDuration, *o.RenewDeadline, *o.RetryPeriod)
	}
	// Out of a cluster (no ServiceAccount namespace file), the Lease is in kova-system;
	// in a pod, in the pod's namespace.
	inClusterNamespaceFile = filepath.Join(t.TempDir(), "namespace")
	if o, err = parseLeader(t, "--leader-elect"); err != nil {
		t.Fatal(err)
	}
	if o.LeaderElectionNamespace != defaultLeaderElectionNamespace {
		t.Fatalf("namespace %q", o.LeaderElectionNamespace)
	}
	if err := os.WriteFile(inClusterNamespaceFile, []byte("kova-ha\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if o, err = parseLeader(t, "--leader-elect"); err != nil || o.LeaderElectionNamespace != "kova-ha" {
		t.Fatalf("in a pod: namespace %q, %v", o.LeaderElectionNamespace, err)
	}
	o, err = parseLeader(t, "--leader-elect", "--leader-election-namespace=ops")
	if err != nil || o.LeaderElectionNamespace != "ops" {
		t.Fatalf("namespace %q, %v", o.LeaderElectionNamespace, err)
	}
}

func TestLeaderElectionTimingsMustNest(t *testing.T) {
	for _, args := range [][]string{
		{"--leader-election-lease-duration=3s", "--leader-election-renew-deadline=3s"},
		{"--leader-election-renew-deadline=1s", "--leader-election-retry-period=1s"},
		{"--leader-election-retry-period=0s"},
	} {
		if _, err := parseLeader(t, append([]string{"--leader-elect"}, args...)...); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
