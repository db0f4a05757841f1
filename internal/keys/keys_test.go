package keys

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestGenerateRoundTrips(t *testing.T) {
	g, err := Generate("Generated-by-Nova")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.PublicKey, "ssh-rsa ") || !strings.HasSuffix(g.PublicKey, " Generated-by-Nova\n") {
		t.Fatalf("public key %q is not an ssh-rsa line with Nova's comment", g.PublicKey)
	}
	signer, err := ssh.ParsePrivateKey([]byte(g.PrivateKey))
	if err != nil {
		t.Fatalf("private key does not parse: %v", err)
	}
	if got := ssh.FingerprintLegacyMD5(signer.PublicKey()); got != g.Fingerprint {
		t.Fatalf("private key fingerprint %s, public %s", got, g.Fingerprint)
	}
	fp, err := Fingerprint(TypeSSH, g.PublicKey)
	if err != nil || fp != g.Fingerprint {
		t.Fatalf("Fingerprint = %q, %v; want %q", fp, err, g.Fingerprint)
	}
}

func TestFingerprintKnownKey(t *testing.T) {
	// The fingerprint of this key is computed independently with ssh-keygen -E md5 -l.
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"
	fp, err := Fingerprint(TypeSSH, key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "e0:0a:40:59:33:85:bc:b6:80:2e:68:dc:b5:77:2a:77"; fp != want {
		t.Fatalf("fingerprint %q, want %q", fp, want)
	}
}

func TestFingerprintRejectsGarbage(t *testing.T) {
	for _, tc := range []struct{ typ, key string }{
		{TypeSSH, "not a key"},
		{TypeSSH, ""},
		{TypeX509, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
		{TypeX509, "ssh-rsa AAAA"},
	} {
		if _, err := Fingerprint(tc.typ, tc.key); err == nil || !strings.HasPrefix(err.Error(), "Keypair data is invalid") {
			t.Errorf("Fingerprint(%s, %q) = %v, want Nova's invalid keypair error", tc.typ, tc.key, err)
		}
	}
}
