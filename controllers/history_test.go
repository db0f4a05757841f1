package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/rules"
)

// A server's history outlives it (Nova's instance actions of a deleted instance, from
// 2.21): its actions are owned by nothing, the delete is recorded with the deleting user as
// it is asked, and the whole history goes a retention after the server.
var _ = Describe("A deleted server's history", func() {
	It("keeps the actions and a delete record with the deleting user, then removes them after the retention", func() {
		ns := tenant(uniq("history"))
		srv := settled(newServer(ns), "ACTIVE")
		uid := string(srv.UID)

		By("an action asked with kubectl is labelled with its server's uid and owned by nothing")
		stop := act(creator, srv, computev1.ServerActionSpec{Action: computev1.ActionStop})
		Expect(stop.Status.Phase).To(Equal(computev1.ActionSucceeded))
		Expect(stop.Labels).To(HaveKeyWithValue(computev1.LabelServerUID, uid))
		Expect(stop.OwnerReferences).To(BeEmpty())

		By("a ServerAction delete is Kova's record only")
		forged := &computev1.ServerAction{}
		forged.Namespace, forged.Name = ns, uniq("delete")
		forged.Spec = computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionDelete}
		err := creator.Create(suiteCtx, forged)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("delete the Server"))

		By("kubectl delete records the delete, with the user, before it answers")
		Expect(creator.Delete(suiteCtx, srv)).To(Succeed())
		record := &computev1.ServerAction{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: rules.DeleteRecordName(srv)}, record)).To(Succeed())
		Expect(record.Spec.Action).To(Equal(computev1.ActionDelete))
		Expect(record.Spec.RequestedBy).To(Equal("alice"))
		Expect(record.Spec.RequestID).To(HavePrefix("req-"))
		Expect(record.Labels).To(HaveKeyWithValue(computev1.LabelServerUID, uid))
		Expect(record.Annotations).To(HaveKeyWithValue(computev1.AnnotationServerCreatedAt, srv.CreationTimestamp.UTC().Format(time.RFC3339)))

		By("once the server is gone, the delete is done and the history is still there")
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))
		}).Should(BeTrue())
		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(record), record)).To(Succeed())
		Expect(record.Status.Phase).To(Equal(computev1.ActionSucceeded))
		Expect(record.Status.CompletionTime).NotTo(BeNil())
		history := func() []string {
			var list computev1.ServerActionList
			Expect(k8s.List(suiteCtx, &list, client.InNamespace(ns), client.MatchingLabels{computev1.LabelServerUID: uid})).To(Succeed())
			var names []string
			for _, sa := range list.Items {
				names = append(names, sa.Name)
			}
			return names
		}
		Expect(history()).To(ConsistOf(stop.Name, record.Name))

		By("a restarted manager keeps it: it is in the API server, owned by nothing, and within the retention")
		whileManagerDown(func() {})
		Consistently(history, 2*time.Second, 100*time.Millisecond).Should(ConsistOf(stop.Name, record.Name))

		By("a server made again under the name has none of it")
		again := settled(newServer(ns, func(s *computev1.Server) { s.Name = srv.Name }), "ACTIVE")
		Expect(again.UID).NotTo(Equal(srv.UID))
		Expect(history()).To(ConsistOf(stop.Name, record.Name))

		By("within the retention nothing is removed; past it, all of it")
		now := record.Status.CompletionTime.Time
		sweeper := &controllers.ServerActionReconciler{Client: k8s, APIReader: k8s, Retention: time.Hour, Now: func() time.Time { return now }}
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(record)}
		now = now.Add(59 * time.Minute)
		res, err := sweeper.Reconcile(suiteCtx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RequeueAfter).To(BeNumerically("~", time.Minute, time.Second))
		Expect(history()).To(HaveLen(2))
		now = now.Add(2 * time.Minute)
		_, err = sweeper.Reconcile(suiteCtx, req)
		Expect(err).NotTo(HaveOccurred())
		Expect(history()).To(BeEmpty())
		Expect(get(again).DeletionTimestamp).To(BeNil())
	})
})
