package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kova-dev/kova/controllers"
)

func TestDecodeManifests(t *testing.T) {
	data := []byte(`
# a comment-only document is skipped
---
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [a.yaml]
---
nameReference:
- kind: Service
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
`)
	objs, err := decodeManifests(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	if want := "Namespace/demo ConfigMap/a ConfigMap/b"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestReadManifestsAndWebhookDetection(t *testing.T) {
	dir := t.TempDir()
	if objs, err := readManifests(filepath.Join(dir, "missing")); err != nil || len(objs) != 0 {
		t.Fatalf("missing dir: got %v, %v; want nothing", objs, err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "resources:\n- manifests.yaml\n")
	write("notes.txt", "apiVersion: v1\nkind: ConfigMap\n")
	if ok, err := hasWebhookConfigurations(dir); err != nil || ok {
		t.Fatalf("got %v, %v; want no webhooks", ok, err)
	}
	write("manifests.yaml", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: v\n")
	if ok, err := hasWebhookConfigurations(dir); err != nil || !ok {
		t.Fatalf("got %v, %v; want webhooks", ok, err)
	}
}

func TestPrefixWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newPrefixWriter(&buf, "manager | ")
	for _, chunk := range []string{"one\ntw", "o\n", "three"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if want := "manager | one\nmanager | two\nmanager | three\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := options{
		dataDir: ".kova", binDir: "bin", manager: filepath.Join("bin", "manager"), configDir: "config",
		novaAPI: filepath.Join("bin", "nova-api"), novaDirect: "127.0.0.1:8774", simDebug: "127.0.0.1:8779",
	}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}
	if _, err := parseFlags([]string{"extra"}, &bytes.Buffer{}); err == nil {
		t.Error("want an error for a positional argument")
	}
	if args := o.sim.managerArgs(); len(args) != 0 {
		t.Errorf("no sim settings given, yet the manager gets %v", args)
	}
}

func TestGoGCReachesTheManagerAndNovaAPI(t *testing.T) {
	o, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if env := o.childEnv(); len(env) != 0 {
		t.Errorf("no --go-gc given, yet the children get %q", env)
	}
	if o, err = parseFlags([]string{"--go-gc=50"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if env := o.childEnv(); !slices.Equal(env, []string{"GOGC=50"}) {
		t.Errorf("children's environment %q, want GOGC=50", env)
	}
}

func TestSimSettingsReachTheManager(t *testing.T) {
	o, err := parseFlags([]string{"--sim-step-latency=0", "--sim-hosts=h1:vcpus=4096,ram=4194304,disk=65536;h2:vcpus=8,ram=1024,disk=10",
		"--cpu-allocation-ratio=16", "--disk-allocation-ratio=1.5", "--shared-networks=none"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--sim-step-latency=0", "--sim-hosts=h1:vcpus=4096,ram=4194304,disk=65536;h2:vcpus=8,ram=1024,disk=10",
		"--cpu-allocation-ratio=16", "--disk-allocation-ratio=1.5", "--shared-networks=none"}
	if got := o.sim.managerArgs(); !slices.Equal(got, want) {
		t.Errorf("manager args %q, want %q", got, want)
	}
	// The manager itself takes these flags (controllers.Options binds them).
	var co controllers.Options
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	co.BindFlags(fs)
	if err := fs.Parse(want); err != nil {
		t.Fatalf("the manager refuses %q: %v", want, err)
	}
	if co.StepLatency != 0 || co.AllocationRatios.CPU != 16 || co.AllocationRatios.RAM != 1 || co.AllocationRatios.Disk != 1.5 {
		t.Errorf("manager options %+v", co)
	}
	if _, err := co.NewDriver(); err != nil {
		t.Errorf("the manager cannot build its driver from them: %v", err)
	}
}
