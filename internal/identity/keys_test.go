package identity

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// The keys of two replicas sharing one Secret, on one clock.
func twoReplicas(t *testing.T, objs ...client.Object) (*keys, *keys, client.Client, *time.Time) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	mk := func() *keys {
		return &keys{client: c, namespace: "kova-system", rotation: 24 * time.Hour, retain: 49 * time.Hour, now: clock}
	}
	return mk(), mk(), c, &now
}

func issue(t *testing.T, k *keys, now time.Time) string {
	t.Helper()
	key, err := k.signing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := sign(&Token{AuditID: newAuditID(), IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		UserID: "u", KubeName: "alice", Methods: []string{"password"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func verifies(k *keys, token string, now time.Time) bool {
	_, err := parse(token, func(id string) ([]byte, error) { return k.verifying(context.Background(), id) }, now)
	return err == nil || err == errExpired
}

func secretFields(t *testing.T, c client.Client) []string {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "kova-system", Name: SigningKeySecret}, s); err != nil {
		t.Fatal(err)
	}
	var out []string
	for f := range s.Data {
		out = append(out, f)
	}
	return out
}

// A rotation makes a new signing key; tokens of the old one keep verifying on every replica
// until they can no longer be validated, and then the old key is dropped.
func TestKeysRotateWithoutEndingTokens(t *testing.T) {
	a, b, c, now := twoReplicas(t)
	old := issue(t, a, *now)
	if !verifies(b, old, *now) {
		t.Fatal("the other replica refuses a token of the shared key")
	}

	*now = now.Add(25 * time.Hour) // past the rotation
	if !verifies(b, old, *now) {   // b reads the keys now, before a rotates
		t.Fatal("a token was refused before the rotation")
	}
	staged := issue(t, a, *now)
	if got := secretFields(t, c); len(got) != 2 {
		t.Fatalf("after one rotation the Secret holds %v, want the old and the new key", got)
	}
	// The new key is staged: it does not sign until every replica has read it, so b, whose
	// copy predates it, never meets a token of a key it does not know.
	if hdr := strings.Split(staged, ".")[0]; hdr != strings.Split(old, ".")[0] {
		t.Error("a key just made signs at once")
	}
	if !verifies(b, staged, *now) {
		t.Fatal("a token of the staged rotation was refused by the replica that has not read it")
	}
	*now = now.Add(keyStaged)
	fresh := issue(t, a, *now)
	if hdr := strings.Split(fresh, ".")[0]; hdr == strings.Split(old, ".")[0] {
		t.Error("past its staging the new key does not sign")
	}
	if !verifies(b, fresh, *now) || !verifies(b, old, *now) || !verifies(a, old, *now) {
		t.Fatal("a token was refused across the rotation")
	}
	// b rotates no further: a's key is a minute old.
	if _, err := b.signing(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := secretFields(t, c); len(got) != 2 {
		t.Fatalf("the second replica rotated again: %v", got)
	}

	// Two more rotations: 50 hours after the second key took over, the first is retired;
	// the second, which signed until the third came, stays.
	*now = now.Add(25 * time.Hour)
	issue(t, b, *now)
	*now = now.Add(25 * time.Hour)
	issue(t, b, *now)
	if got := secretFields(t, c); len(got) != 3 {
		t.Fatalf("after retirement the Secret holds %v, want the last three keys", got)
	}
	*now = now.Add(2 * time.Minute) // past the refresh
	if verifies(a, old, *now) {
		t.Error("a token of a retired key still verifies")
	}
}

// A Secret from before keys had names keeps verifying the tokens it signed, and a deleted
// Secret ends every token at the next refresh.
func TestKeysLegacySecretAndDeletion(t *testing.T) {
	legacy := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kova-system", Name: SigningKeySecret},
		Data:       map[string][]byte{legacyKeyField: []byte(strings.Repeat("L", 32))},
	}
	a, b, c, now := twoReplicas(t, legacy)
	a.rotation = 0
	old, err := sign(&Token{AuditID: newAuditID(), IssuedAt: *now, ExpiresAt: now.Add(time.Hour),
		UserID: "u", KubeName: "alice", Methods: []string{"password"}}, signingKey{id: "", bytes: legacy.Data[legacyKeyField]})
	if err != nil {
		t.Fatal(err)
	}
	if !verifies(a, old, *now) {
		t.Fatal("a token without a key name is refused by the legacy key")
	}
	if err := c.Delete(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Minute)
	if verifies(b, old, *now) || verifies(a, old, *now) {
		t.Error("a token of a deleted Secret's key still verifies")
	}
}
