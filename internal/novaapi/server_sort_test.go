package novaapi

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// textLess is the order by the text of serverFields and namespace/name, which less keeps
// without making the text.
func textLess(o serverSort, a, b *computev1.Server) bool {
	for i, k := range o.keys {
		var x, y string
		if k == "" {
			x, y = a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name
		} else {
			x, y = serverFields[k](a), serverFields[k](b)
		}
		if x == y {
			continue
		}
		if o.desc[i] {
			return x > y
		}
		return x < y
	}
	return false
}

func TestServerSortByTimesAndNames(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	namespaces := []string{"a", "a-b", "ab", "a.b", "b"}
	var servers []*computev1.Server
	for i := range 300 {
		s := &computev1.Server{ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespaces[r.IntN(len(namespaces))],
			Name:              fmt.Sprintf("s%d", r.IntN(40)),
			CreationTimestamp: metav1.NewTime(base.Add(time.Duration(r.IntN(5)) * time.Second)),
		}}
		if i%3 != 0 {
			at := metav1.NewTime(base.Add(time.Duration(r.IntN(5000)) * time.Millisecond))
			s.Status.LaunchedAt, s.Status.Updated = &at, &at
		}
		servers = append(servers, s)
	}
	for _, keys := range [][]string{{"created_at", ""}, {"updated_at", "created_at", ""}, {"launched_at", "created_at", ""}, {""}} {
		for _, desc := range []bool{true, false} {
			o := serverSort{keys: keys, desc: make([]bool, len(keys))}
			for i := range o.desc {
				o.desc[i] = desc
			}
			for _, a := range servers {
				for _, b := range servers[:60] {
					if got, want := o.less(a, b), textLess(o, a, b); got != want {
						t.Fatalf("%v desc=%v: less(%s/%s %v, %s/%s %v) = %v, want %v", keys, desc,
							a.Namespace, a.Name, a.CreationTimestamp, b.Namespace, b.Name, b.CreationTimestamp, got, want)
					}
				}
			}
		}
	}
}
