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

// TestPublicEndpointAndLimits: links are built on a configured endpoint, never on the
// request's Host; without --public-endpoint the direct address must name a host.
func TestPublicEndpointAndLimits(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxServersPerRequest != 100 {
		t.Errorf("defaults: per request %d", o.MaxServersPerRequest)
	}
	for _, args := range [][]string{
		{"--public-endpoint=https://nova.example.com:8774", "--direct-bind-address=0.0.0.0:8774"},
		{"--max-servers-per-request=5"},
	} {
		if _, err := parseFlags(args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	for args, want := range map[string]string{
		"--direct-bind-address=0.0.0.0:8774": "--public-endpoint is required",
		"--direct-bind-address=:8774":        "--public-endpoint is required",
		"--public-endpoint=nova.example":     "--public-endpoint",
		"--quota-instances=10":               "unknown flag: --quota-instances", // a QuotaClass now
		"--max-servers-per-request=0":        "--max-servers-per-request",
	} {
		if _, err := parseFlags([]string{args}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error about %s", args, err, want)
		}
	}
}
