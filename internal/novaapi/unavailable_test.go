package novaapi

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// A backend that cannot answer now (kube-apiserver or etcd restarting, a webhook out of
// reach) is a 503 the client may retry, and never shows the cluster's internal addresses.
func TestBackendUnavailableIs503(t *testing.T) {
	gr := k8sschema.GroupResource{Group: "compute.kova.dev", Resource: "servers"}
	for name, err := range map[string]error{
		"webhook call failed": apierrors.NewInternalError(fmt.Errorf(`failed calling webhook "vserver.compute.kova.dev": Post "https://127.0.0.1:42741/validate": broken pipe`)),
		"etcd unavailable":    apierrors.NewInternalError(fmt.Errorf("rpc error: code = Unavailable desc = connection error")),
		"timeout":             apierrors.NewTimeoutError("request did not complete", 1),
		"unavailable":         apierrors.NewServiceUnavailable("the server is shutting down"),
		"too many requests":   apierrors.NewTooManyRequests("slow down", 1),
		"connection reset":    fmt.Errorf(`Post "https://127.0.0.1:36199/apis/compute.kova.dev/v1alpha1/servers": %w`, syscall.ECONNRESET),
		"connection refused":  fmt.Errorf("dial tcp 127.0.0.1:6443: %w", syscall.ECONNREFUSED),
	} {
		ae := asAPIError(err)
		if ae.code != http.StatusServiceUnavailable || ae.message != msgUnavailable {
			t.Errorf("%s: got %d %q, want 503 %q", name, ae.code, ae.message, msgUnavailable)
		}
		if strings.Contains(ae.message, "127.0.0.1") {
			t.Errorf("%s: the message shows an internal address: %q", name, ae.message)
		}
	}
	if ae := asAPIError(apierrors.NewNotFound(gr, "srv")); ae.code != http.StatusNotFound {
		t.Errorf("a 404 became %d", ae.code)
	}
}
