package main

import (
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--kubeconfig=/k", "--secure-port=9443", "--default-tenant=demo"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Authentication.RemoteKubeConfigFile != "/k" || o.Authorization.RemoteKubeConfigFile != "/k" {
		t.Errorf("--kubeconfig should default the delegated authn/authz kubeconfigs, got %q and %q",
			o.Authentication.RemoteKubeConfigFile, o.Authorization.RemoteKubeConfigFile)
	}
	if o.SecureServing.BindPort != 9443 || o.DirectBindAddress != "127.0.0.1:8774" || o.PublicNamespace != "kova-public" {
		t.Errorf("unexpected options: port %d, direct %q, public %q", o.SecureServing.BindPort, o.DirectBindAddress, o.PublicNamespace)
	}

	for args, want := range map[string]string{
		"--secure-port=0":              "--secure-port",
		"--default-tenant=Not_A_Name":  "--default-tenant",
		"--direct-bind-address=nohost": "--direct-bind-address",
		"--max-body-bytes=-1":          "--max-body-bytes",
		"extra":                        "unexpected arguments",
	} {
		if _, err := parseFlags([]string{args}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error about %s", args, err, want)
		}
	}
}
