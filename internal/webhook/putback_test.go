package webhook_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/webhook"
)

// TestCreatedLabelsPutBackWarned: the Server mutating webhook as the manager serves it
// warns of each creation-time label it puts back, so that `kubectl label` and `kubectl
// replace` print it; an update that takes none away and a create get no warning. It is
// served where the shipped configuration calls it.
func TestCreatedLabelsPutBackWarned(t *testing.T) {
	var shipped struct {
		ClientConfig struct {
			Service struct {
				Path string `json:"path"`
			} `json:"service"`
		} `json:"clientConfig"`
	}
	shippedHook(t, "MutatingWebhookConfiguration", "mserver.compute.kova.dev", &shipped)
	if shipped.ClientConfig.Service.Path != webhook.ServerMutatePath {
		t.Fatalf("the shipped configuration calls %q, the manager serves %q", shipped.ClientConfig.Service.Path, webhook.ServerMutatePath)
	}
	scheme := runtime.NewScheme()
	if err := computev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	hook := webhook.ServerMutating(admission.WithDefaulter(scheme, webhook.ServerDefaulter{}))
	stamped := rules.CreatedLabels(time.Unix(1764558123, 0))
	raw := func(l map[string]string) runtime.RawExtension {
		b, err := json.Marshal(&computev1.Server{
			TypeMeta:   metav1.TypeMeta{APIVersion: computev1.GroupVersion.String(), Kind: "Server"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "t1", Labels: l}})
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: b}
	}
	left := map[string]string{"app": "web", computev1.LabelCreated1e7s: stamped[computev1.LabelCreated1e7s]}
	for _, c := range []struct {
		name    string
		op      admissionv1.Operation
		old     map[string]string
		new     map[string]string
		putBack []string
	}{
		{"three taken away", admissionv1.Update, stamped, left,
			[]string{computev1.LabelCreated1s, computev1.LabelCreated1e3s, computev1.LabelCreated1e5s}},
		{"none taken away", admissionv1.Update, stamped, stamped, nil},
		{"a create", admissionv1.Create, nil, map[string]string{"app": "web"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := admissionv1.AdmissionRequest{UID: "1", Operation: c.op, Name: "web", Namespace: "t1",
				Object: raw(c.new), UserInfo: authenticationv1.UserInfo{Username: "eve"}}
			if c.old != nil {
				req.OldObject = raw(c.old)
			}
			resp := hook.Handle(context.Background(), admission.Request{AdmissionRequest: req})
			if !resp.Allowed {
				t.Fatalf("refused: %v", resp.Result)
			}
			if len(c.putBack) == 0 {
				if len(resp.Warnings) != 0 {
					t.Errorf("warnings %q, want none", resp.Warnings)
				}
				return
			}
			if len(resp.Warnings) != 1 {
				t.Fatalf("warnings %q, want one", resp.Warnings)
			}
			added := map[string]bool{}
			for _, p := range resp.Patches {
				if p.Operation == "add" {
					added[p.Path] = true
				}
			}
			for _, k := range rules.CreatedLabelKeys() {
				named := strings.Contains(resp.Warnings[0], k+",") || strings.Contains(resp.Warnings[0], k+" ")
				back := slices.Contains(c.putBack, k)
				if named != back {
					t.Errorf("warning %q names %s: %v, want %v", resp.Warnings[0], k, named, back)
				}
				if path := "/metadata/labels/" + strings.ReplaceAll(k, "/", "~1"); added[path] != back {
					t.Errorf("patch adds %s: %v, want %v (patches %v)", path, added[path], back, resp.Patches)
				}
			}
		})
	}
}
