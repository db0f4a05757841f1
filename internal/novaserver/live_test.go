package novaserver_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

var _ = Describe("the reading client's server versions", func() {
	It("lists each selected server's name, uid and resourceVersion from the Servers' table", func(ctx SpecContext) {
		ns := "versions"
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		made := map[string]*computev1.Server{}
		for i, name := range []string{"a", "b", "c"} {
			s := &computev1.Server{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
					Labels: map[string]string{computev1.LabelCreated1s: []string{"10", "20", "30"}[i]}},
				Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive},
			}
			Expect(k8s.Create(ctx, s)).To(Succeed())
			made[name] = s
		}
		// A status write: the version listed must be this one, not the create's.
		b := made["b"]
		b.Status.Status = "ACTIVE"
		Expect(k8s.Status().Update(ctx, b)).To(Succeed())

		live, err := novaserver.NewLiveReader(cp.Config, testenv.Scheme())
		Expect(err).NotTo(HaveOccurred())
		lister, ok := live.(novaapi.ServerVersionLister)
		Expect(ok).To(BeTrue(), "the reading client lists versions by the table")

		sel, err := labels.Parse(computev1.LabelCreated1s + ">15")
		Expect(err).NotTo(HaveOccurred())
		got, err := lister.ListServerVersions(ctx, ns, sel)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(ConsistOf(
			novaapi.ServerVersion{Name: "b", UID: b.UID, ResourceVersion: b.ResourceVersion},
			novaapi.ServerVersion{Name: "c", UID: made["c"].UID, ResourceVersion: made["c"].ResourceVersion},
		))

		got, err = lister.ListServerVersions(ctx, ns, labels.Everything())
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(3))
		got, err = lister.ListServerVersions(ctx, "nowhere", labels.Everything())
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(BeEmpty())
	})
})
