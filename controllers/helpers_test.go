package controllers_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func bytesSplit(data []byte, sep string) [][]byte { return bytes.Split(data, []byte(sep)) }

var serial atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, serial.Add(1)) }

// newServer creates a server of m1.small from cirros on the tenant's private network.
func newServer(ns string, mutate ...func(*computev1.Server)) *computev1.Server {
	srv := &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("srv")},
		Spec: computev1.ServerSpec{
			FlavorRef: "m1.small", ImageRef: "cirros", PowerState: computev1.PowerActive,
			Networks: []computev1.NetworkAttachment{{Name: "private"}},
		},
	}
	for _, m := range mutate {
		m(srv)
	}
	Expect(k8s.Create(suiteCtx, srv)).To(Succeed())
	return srv
}

func get(srv *computev1.Server) *computev1.Server {
	out := &computev1.Server{}
	Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), out)).To(Succeed())
	return out
}

// settled waits until the server shows status with no task running.
func settled(srv *computev1.Server, status string) *computev1.Server {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		cur := &computev1.Server{}
		g.Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), cur)).To(Succeed())
		g.Expect(cur.Status.Status).To(Equal(status), "fault: %v, blocked: %v", cur.Status.Fault, cur.Status.Blocked)
		g.Expect(cur.Status.TaskState).To(BeEmpty())
		g.Expect(cur.Status.Operation).To(BeNil())
		g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
	}).Should(Succeed())
	return get(srv)
}

// updateSpec changes a server's spec as `kubectl edit` would, retrying on conflicts.
func updateSpec(c client.Client, srv *computev1.Server, change func(*computev1.ServerSpec)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := &computev1.Server{}
		if err := k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), cur); err != nil {
			return err
		}
		change(&cur.Spec)
		return c.Update(suiteCtx, cur)
	})
}

// act creates a ServerAction and waits until it ends, returning it.
func act(c client.Client, srv *computev1.Server, spec computev1.ServerActionSpec) *computev1.ServerAction {
	spec.ServerName = srv.Name
	sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: srv.Namespace, Name: uniq(strings.ToLower(string(spec.Action)))}, Spec: spec}
	Expect(c.Create(suiteCtx, sa)).To(Succeed())
	return ended(sa)
}

// ended waits until an action has succeeded or failed, and returns it.
func ended(sa *computev1.ServerAction) *computev1.ServerAction {
	GinkgoHelper()
	Eventually(func() computev1.ActionPhase {
		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(sa), sa)).To(Succeed())
		return sa.Status.Phase
	}).Should(Or(Equal(computev1.ActionSucceeded), Equal(computev1.ActionFailed)))
	return sa
}
