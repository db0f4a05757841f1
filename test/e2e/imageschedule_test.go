package e2e

import (
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Scheduled images through both ways in, under the matrix (enable: creator and admin;
// show: everyone; disable: admin), with the schedule in the Server's spec for kubectl.
var _ = Describe("Scheduled images (rax-si-image-schedule)", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("are enabled, shown and disabled through the %s way in", way), func(ctx SpecContext) {
			admin := compute(tokens["admin"], way)
			s, err := servers.Create(ctx, admin, servers.CreateOpts{Name: "scheduled-" + way, FlavorRef: "m1.tiny",
				ImageRef: listImages(ctx, admin)["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, admin, s.ID).ExtractErr() })
			path := "/servers/" + s.ID + "/rax-si-image-schedule"

			code, body := call(way, tokens["observer"], http.MethodPost, path, []byte(`{"image_schedule": {"retention": 3}}`))
			Expect(code).To(Equal(http.StatusForbidden), body)
			code, body = call(way, tokens["creator"], http.MethodPost, path, []byte(`{"image_schedule": {"retention": 3, "day_of_week": "MONDAY"}}`))
			Expect(code).To(Equal(http.StatusOK), body)
			Expect(body).To(MatchJSON(`{"image_schedule": {"retention": 3, "day_of_week": "MONDAY"}}`))
			code, body = call(way, tokens["observer"], http.MethodGet, path, nil)
			Expect(code).To(Equal(http.StatusOK), body)
			Expect(body).To(MatchJSON(`{"image_schedule": {"retention": 3, "day_of_week": "MONDAY"}}`))

			By("the schedule is the Server's spec, as kubectl shows it")
			srv := &computev1.Server{}
			Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}, srv)).To(Succeed())
			Expect(srv.Spec.ImageSchedule).To(Equal(&computev1.ImageSchedule{Retention: 3, DayOfWeek: "MONDAY"}))

			code, body = call(way, tokens["creator"], http.MethodDelete, path, nil)
			Expect(code).To(Equal(http.StatusForbidden), body)
			code, body = call(way, tokens["admin"], http.MethodDelete, path, nil)
			Expect(code).To(Equal(http.StatusAccepted), body)
			code, body = call(way, tokens["observer"], http.MethodGet, path, nil)
			Expect(code).To(Equal(http.StatusNotFound), body)
			Expect(body).To(ContainSubstring(`"itemNotFound"`))
		})
	}
})
