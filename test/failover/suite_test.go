// Package failover runs two managers with leader election on one control plane and one
// simulated hypervisor state, kill -9s the leader in the middle of a burst of 200 boots, and
// checks what an operator of two replicas is promised: the standby takes the Lease within
// the lease time, every server ends ACTIVE, none was spawned twice, and no address was
// leaked or given twice.
package failover

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestFailover(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "Manager failover suite")
}
