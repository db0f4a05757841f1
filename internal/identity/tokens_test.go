package identity

import (
	"strings"
	"testing"
	"time"
)

func TestTokensRoundTripAndRefuseTampering(t *testing.T) {
	key := signingKey{id: "hs256-1", bytes: []byte(strings.Repeat("k", 32))}
	only := func(k signingKey) func(string) ([]byte, error) {
		return func(id string) ([]byte, error) {
			if id != k.id {
				return nil, errUnknownKey
			}
			return k.bytes, nil
		}
	}
	now := time.Unix(1_800_000_000, 0)
	in := &Token{
		AuditID: newAuditID(), IssuedAt: now, ExpiresAt: now.Add(time.Hour), UserID: "u", UserName: "alice",
		UserObject: "alice", UserUID: "uid", KubeName: "kova:alice", KubeGroups: []string{"system:authenticated"},
		Project: "demo", Methods: []string{"password"},
	}
	signed, err := sign(in, key)
	if err != nil {
		t.Fatal(err)
	}
	if !IsKovaToken(signed) {
		t.Fatal("a signed token is not recognised as Kova's")
	}
	out, err := parse(signed, only(key), now.Add(time.Minute))
	if err != nil || out.KubeName != "kova:alice" || out.Project != "demo" || !out.ExpiresAt.Equal(in.ExpiresAt) {
		t.Fatalf("parse = %+v, %v", out, err)
	}
	if _, err := parse(signed, only(signingKey{id: key.id, bytes: []byte(strings.Repeat("x", 32))}), now); err == nil {
		t.Error("a token signed with another key was accepted")
	}
	if _, err := parse(signed, only(signingKey{id: "hs256-2", bytes: key.bytes}), now); err != errBadToken {
		t.Errorf("a token naming an unknown key: %v, want errBadToken", err)
	}
	parts := strings.Split(signed, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]
	if _, err := parse(forged, only(key), now); err == nil {
		t.Error("a token with changed claims was accepted")
	}
	if _, err := parse(signed, only(key), in.ExpiresAt); err != errExpired {
		t.Errorf("at its expiry: %v, want errExpired", err)
	}
	if IsKovaToken("not.a.token") || IsKovaToken(strings.Repeat("a", maxTokenBytes+1)) {
		t.Error("garbage recognised as a Kova token")
	}
}

func TestThrottleHoldsOneUserAfterItsBurstOnly(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := newThrottle(func() time.Time { return now })
	for i := range userFailureBurst {
		if d := th.wait("name:bob", "10.0.0.1"); d != 0 {
			t.Fatalf("failure %d waits %v", i, d)
		}
		th.failed("name:bob", "10.0.0.1")
	}
	if d := th.wait("name:bob", "10.0.0.1"); d <= 0 || d > userFailureEvery {
		t.Fatalf("after the burst: wait %v, want (0, %v]", d, userFailureEvery)
	}
	if d := th.wait("name:BOB", "10.0.0.2"); d <= 0 {
		t.Error("the user's bucket depends on the case of its name or the address")
	}
	if d := th.wait("name:carol", "10.0.0.1"); d != 0 {
		t.Errorf("another user waits %v", d)
	}
	now = now.Add(userFailureEvery)
	if d := th.wait("name:bob", "10.0.0.1"); d != 0 {
		t.Errorf("after a refill: wait %v", d)
	}
}
