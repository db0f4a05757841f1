package quota

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A claim is reserved in the Quota's status when something it asks for has a limit, and
// costs no write when nothing has one (-1 for instances, cores and ram): Nova checks
// nothing then, and a burst of creates in an unlimited tenant is not serialised on its
// Quota.
func TestReserveWritesOnlyWhereALimitHolds(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		limits computev1.QuotaLimits
		want   int
	}{
		{"Nova's defaults", computev1.QuotaLimits{}, 1},
		{"instances unlimited, cores limited", computev1.QuotaLimits{Instances: ptr(-1), RAM: ptr(-1)}, 1},
		{"all unlimited", computev1.QuotaLimits{Instances: ptr(-1), Cores: ptr(-1), RAM: ptr(-1)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: computev1.QuotaName}, Spec: tc.limits}
			c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(q).WithStatusSubresource(q).Build()
			r := &Reserver{Client: c, Live: c}
			if err := r.Reserve(context.Background(), "t", Claim{UID: "u1", FlavorRef: "m1.tiny", Create: true, Flavor: tiny}); err != nil {
				t.Fatal(err)
			}
			got := &computev1.Quota{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(q), got); err != nil {
				t.Fatal(err)
			}
			if len(got.Status.Reservations) != tc.want {
				t.Fatalf("reservations %+v, want %d", got.Status.Reservations, tc.want)
			}
		})
	}
}
