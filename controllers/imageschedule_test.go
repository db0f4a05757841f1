package controllers_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// The image-schedule controller runs on scheduleClock, a fake clock the specs step a day at
// a time; its check interval is short, so a step is seen at once.
var _ = Describe("Scheduled images", Ordered, func() {
	var ns string
	BeforeAll(func() { ns = tenant(uniq("sched")) })

	// scheduled are the server's scheduled images by period, and its scheduled actions.
	scheduled := func(g Gomega, srv *computev1.Server) (periods []string, actions int) {
		var imgs computev1.ImageList
		g.Expect(k8s.List(suiteCtx, &imgs, client.InNamespace(ns), client.MatchingLabels{computev1.LabelServer: srv.Name})).To(Succeed())
		for _, img := range imgs.Items {
			if p := img.Spec.Metadata[computev1.MetadataScheduledImage]; p != "" && img.DeletionTimestamp.IsZero() {
				g.Expect(img.Spec.Source.ServerSnapshot).NotTo(BeNil(), "a scheduled image is a snapshot of the server")
				periods = append(periods, p)
			}
		}
		var sas computev1.ServerActionList
		g.Expect(k8s.List(suiteCtx, &sas, client.InNamespace(ns), client.MatchingLabels{computev1.LabelScheduledImage: srv.Name})).To(Succeed())
		for _, sa := range sas.Items {
			g.Expect(sa.Spec.Action).To(Equal(computev1.ActionCreateImage))
		}
		return periods, len(sas.Items)
	}
	settledImages := func(g Gomega, srv *computev1.Server) {
		var imgs computev1.ImageList
		g.Expect(k8s.List(suiteCtx, &imgs, client.InNamespace(ns), client.MatchingLabels{computev1.LabelServer: srv.Name})).To(Succeed())
		for _, img := range imgs.Items {
			g.Expect(img.Status.Status).To(Equal(computev1.ImageActive), img.Name)
		}
	}

	It("takes one snapshot a day through createImage and keeps the newest retention", func() {
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.ImageSchedule = &computev1.ImageSchedule{Retention: 2} })
		settled(srv, "ACTIVE")
		day := func() string { return scheduleClock.Now().UTC().Format("20060102") }
		first := day()
		Eventually(func(g Gomega) {
			periods, actions := scheduled(g, srv)
			g.Expect(periods).To(ConsistOf(first))
			g.Expect(actions).To(Equal(1))
			settledImages(g, srv)
		}).Should(Succeed())

		var days []string
		for range 3 {
			scheduleClock.SetTime(scheduleClock.Now().Add(24 * time.Hour))
			days = append(days, day())
			Eventually(func(g Gomega) {
				_, actions := scheduled(g, srv)
				g.Expect(actions).To(Equal(len(days) + 1))
				settledImages(g, srv)
			}).Should(Succeed())
		}
		By("four days, four snapshots, the two newest kept")
		Eventually(func(g Gomega) {
			periods, _ := scheduled(g, srv)
			g.Expect(periods).To(ConsistOf(days[1], days[2]))
		}).Should(Succeed())
		settled(srv, "ACTIVE")

		By("disabled, no more snapshots")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.ImageSchedule = nil })).To(Succeed())
		scheduleClock.SetTime(scheduleClock.Now().Add(24 * time.Hour))
		Consistently(func(g Gomega) {
			periods, actions := scheduled(g, srv)
			g.Expect(actions).To(Equal(4))
			g.Expect(periods).To(HaveLen(2))
		}).WithTimeout(2 * time.Second).Should(Succeed())
	})

	It("takes a weekly snapshot on its day only", func() {
		now := scheduleClock.Now().UTC()
		tomorrow := now.Add(24 * time.Hour)
		srv := newServer(ns, func(s *computev1.Server) {
			s.Spec.ImageSchedule = &computev1.ImageSchedule{Retention: 1, DayOfWeek: strings.ToUpper(tomorrow.Weekday().String())}
		})
		settled(srv, "ACTIVE")
		Consistently(func(g Gomega) {
			_, actions := scheduled(g, srv)
			g.Expect(actions).To(BeZero())
		}).WithTimeout(2 * time.Second).Should(Succeed())
		scheduleClock.SetTime(tomorrow)
		Eventually(func(g Gomega) {
			periods, _ := scheduled(g, srv)
			g.Expect(periods).To(ConsistOf(tomorrow.Format("20060102")))
		}).Should(Succeed())
	})

	It("is refused to a user who may not enable it through REST", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		err := updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.ImageSchedule = &computev1.ImageSchedule{Retention: 1} })
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.imageSchedule: Policy doesn't allow rax-si-image-schedule:enable to be performed."))
	})
})
