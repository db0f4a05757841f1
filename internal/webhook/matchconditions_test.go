package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	webhookplugin "k8s.io/apiserver/pkg/admission/plugin/webhook"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/cel/environment"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/testenv"
)

// shippedWebhook is the named validating webhook of config/webhook/manifests.yaml, as
// kube-apiserver gets it.
func shippedWebhook(t *testing.T, name string) *admissionregistrationv1.ValidatingWebhook {
	t.Helper()
	hook := &admissionregistrationv1.ValidatingWebhook{}
	shippedHook(t, "ValidatingWebhookConfiguration", name, hook)
	return hook
}

// shippedMutatingWebhook is the named mutating webhook of config/webhook/manifests.yaml.
func shippedMutatingWebhook(t *testing.T, name string) *admissionregistrationv1.MutatingWebhook {
	t.Helper()
	hook := &admissionregistrationv1.MutatingWebhook{}
	shippedHook(t, "MutatingWebhookConfiguration", name, hook)
	return hook
}

// shippedHook decodes into hook the webhook named name of the configuration of kind in
// config/webhook/manifests.yaml.
func shippedHook(t *testing.T, kind, name string, hook any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var cfg struct {
			Kind     string            `json:"kind"`
			Webhooks []json.RawMessage `json:"webhooks"`
		}
		if err := dec.Decode(&cfg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, w := range cfg.Webhooks {
			var named struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(w, &named); err != nil {
				t.Fatal(err)
			}
			if cfg.Kind == kind && named.Name == name {
				if err := json.Unmarshal(w, hook); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("no %s webhook %s in the manifests", kind, name)
}

// conditionCompiler compiles match conditions as kube-apiserver does.
func conditionCompiler() cel.ConditionCompiler {
	return cel.NewConditionCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
}

// conditionServer is the server demo/srv of the match condition tests, with meta's labels,
// annotations and finalizers.
func conditionServer(meta metav1.ObjectMeta) *computev1.Server {
	meta.Namespace, meta.Name = "demo", "srv"
	return &computev1.Server{
		TypeMeta:   metav1.TypeMeta{APIVersion: computev1.GroupVersion.String(), Kind: "Server"},
		ObjectMeta: meta,
		Spec:       computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive},
	}
}

// edited is a copy of s with edit made to it.
func edited(s *computev1.Server, edit func(*computev1.Server)) *computev1.Server {
	out := s.DeepCopy()
	edit(out)
	return out
}

// conditionMatches evaluates a webhook's compiled match conditions on one request for a
// Server, as kube-apiserver does before it calls the webhook.
func conditionMatches(t *testing.T, matcher matchconditions.Matcher, op admission.Operation, obj, oldObj *computev1.Server) bool {
	t.Helper()
	var o, oo runtime.Object
	if obj != nil {
		o = obj
	}
	if oldObj != nil {
		oo = oldObj
	}
	gvr := computev1.GroupVersion.WithResource("servers")
	attrs := admission.NewAttributesRecord(o, oo, computev1.GroupVersion.WithKind("Server"), "demo", "srv", gvr, "", op, nil, false, nil)
	va, err := admission.NewVersionedAttributes(attrs, computev1.GroupVersion.WithKind("Server"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := matcher.Match(context.Background(), va, nil, nil)
	if res.Error != nil {
		t.Fatalf("%s: %v", op, res.Error)
	}
	return res.Matches
}

// The Server webhook's match condition, compiled and evaluated as kube-apiserver does:
// the REST shim's notes alone do not call the webhook; every other change does.
func TestServerWebhookSkipsOnlyTheShimsNotes(t *testing.T) {
	hook := shippedWebhook(t, "vserver.compute.kova.dev")
	if len(hook.MatchConditions) == 0 {
		t.Fatal("the Server webhook has no match condition")
	}
	matcher := webhookplugin.NewValidatingWebhookAccessor("uid", "kova-validating-webhook-configuration", hook).GetCompiledMatcher(conditionCompiler())

	old := conditionServer(metav1.ObjectMeta{Labels: map[string]string{"a": "1"},
		Annotations: map[string]string{computev1.AnnotationUserID: "demo", "nova.kova.dev/pending-action": "srv-stop-1"},
		Finalizers:  []string{"compute.kova.dev/server"}})
	calls := func(op admission.Operation, obj, oldObj *computev1.Server) bool {
		t.Helper()
		return conditionMatches(t, matcher, op, obj, oldObj)
	}
	changed := func(edit func(*computev1.Server)) *computev1.Server { return edited(old, edit) }
	for _, c := range []struct {
		what  string
		op    admission.Operation
		obj   *computev1.Server
		oldOb *computev1.Server
		want  bool
	}{
		{"create", admission.Create, old, nil, true},
		{"delete", admission.Delete, nil, old, true},
		{"a new pending action", admission.Update, changed(func(s *computev1.Server) { s.Annotations["nova.kova.dev/pending-action"] = "srv-start-2" }), old, false},
		{"a floating IP named", admission.Update, changed(func(s *computev1.Server) { s.Annotations["nova.kova.dev/floating-ips"] = "fip-1" }), old, false},
		{"the notes gone", admission.Update, changed(func(s *computev1.Server) { delete(s.Annotations, "nova.kova.dev/pending-action") }), old, false},
		{"the creator", admission.Update, changed(func(s *computev1.Server) { s.Annotations[computev1.AnnotationUserID] = "eve" }), old, true},
		{"the creator removed", admission.Update, changed(func(s *computev1.Server) { delete(s.Annotations, computev1.AnnotationUserID) }), old, true},
		{"another annotation", admission.Update, changed(func(s *computev1.Server) { s.Annotations[computev1.AnnotationFault] = "build" }), old, true},
		{"a note and the spec", admission.Update, changed(func(s *computev1.Server) {
			s.Annotations["nova.kova.dev/pending-action"] = "x"
			s.Spec.PowerState = computev1.PowerStopped
		}), old, true},
		{"a label", admission.Update, changed(func(s *computev1.Server) { s.Labels["a"] = "2" }), old, true},
		{"the finalizer", admission.Update, changed(func(s *computev1.Server) { s.Finalizers = nil }), old, true},
		{"no annotations before", admission.Update, changed(func(s *computev1.Server) {}), changed(func(s *computev1.Server) { s.Annotations = nil }), true},
	} {
		if got := calls(c.op, c.obj, c.oldOb); got != c.want {
			t.Errorf("%s: webhook called %v, want %v", c.what, got, c.want)
		}
	}
}

// The Server mutating webhook's match condition: every create calls it; an update calls it
// only when it takes a creation-time label away, for the webhook to put it back.
func TestServerDefaulterCalledOnlyForLabelsTakenAway(t *testing.T) {
	hook := shippedMutatingWebhook(t, "mserver.compute.kova.dev")
	if len(hook.MatchConditions) == 0 {
		t.Fatal("the Server mutating webhook has no match condition")
	}
	matcher := webhookplugin.NewMutatingWebhookAccessor("uid", "kova-mutating-webhook-configuration", hook).GetCompiledMatcher(conditionCompiler())
	old := conditionServer(metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Finalizers: []string{computev1.Finalizer}})
	maps.Copy(old.Labels, rules.CreatedLabels(time.Unix(1764558123, 0)))
	changed := func(edit func(*computev1.Server)) *computev1.Server { return edited(old, edit) }
	for _, c := range []struct {
		what     string
		op       admission.Operation
		obj, was *computev1.Server
		want     bool
	}{
		{"create", admission.Create, old, nil, true},
		{"the spec", admission.Update, changed(func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerStopped }), old, false},
		{"another label taken away", admission.Update, changed(func(s *computev1.Server) { delete(s.Labels, "app") }), old, false},
		{"the finalizer taken away", admission.Update, changed(func(s *computev1.Server) { s.Finalizers = nil }), old, false},
		{"a creation label taken away", admission.Update, changed(func(s *computev1.Server) { delete(s.Labels, computev1.LabelCreated1e7s) }), old, true},
		{"every label taken away", admission.Update, changed(func(s *computev1.Server) { s.Labels = nil }), old, true},
		{"a server made without them", admission.Update, changed(func(s *computev1.Server) { s.Labels = nil }),
			changed(func(s *computev1.Server) { s.Labels = nil }), false},
		{"a creation label changed", admission.Update, changed(func(s *computev1.Server) { s.Labels[computev1.LabelCreated1s] = "1" }), old, false},
	} {
		if got := conditionMatches(t, matcher, c.op, c.obj, c.was); got != c.want {
			t.Errorf("%s: webhook called %v, want %v", c.what, got, c.want)
		}
	}
	// The condition names every creation-time label.
	for _, k := range rules.CreatedLabelKeys() {
		if !strings.Contains(hook.MatchConditions[0].Expression, "'"+k+"'") {
			t.Errorf("the condition does not name %s", k)
		}
	}
}
