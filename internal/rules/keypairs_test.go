package rules

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func TestUserKeypairs(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(time.Unix(1700000000+int64(s), 0)) }
	kp := func(obj, name, user string, created int) computev1.Keypair {
		return computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Name: obj, CreationTimestamp: at(created)},
			Spec: computev1.KeypairSpec{Name: name, UserID: user}}
	}
	gone := kp("gone", "old", "alice", 0)
	gone.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	kps := []computev1.Keypair{
		kp("prod", "prod", "alice", 5),
		kp("bob-prod", "prod", "bob", 1),
		kp("aa-prod", "prod", "alice", 6), // raced past the webhook: newer, never used
		kp("zz-dev", "dev", "alice", 2),
		kp("legacy", "", "", 0), // no owner recorded: the tenant's
		gone,
	}
	got := map[string]string{}
	for _, k := range UserKeypairs(kps, "alice") {
		got[k.NovaName()] = k.Name
	}
	want := map[string]string{"prod": "prod", "dev": "zz-dev", "legacy": "legacy"}
	if len(got) != len(want) {
		t.Fatalf("alice's keypairs %v, want %v", got, want)
	}
	for n, obj := range want {
		if got[n] != obj {
			t.Errorf("alice's %s is %s, want %s", n, got[n], obj)
		}
	}
	if k := UserKeypair(kps, "bob", "prod"); k == nil || k.Name != "bob-prod" {
		t.Errorf("bob's prod %v", k)
	}
	if k := UserKeypair(kps, "bob", "dev"); k != nil {
		t.Errorf("bob has alice's dev: %v", k)
	}
}
