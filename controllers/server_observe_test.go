package controllers

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A 403 or 422 from the API server ends the reconcile without a retry and says why on the
// server; other errors stay transient.
func TestTerminalAPIRefusals(t *testing.T) {
	gr := schema.GroupResource{Group: computev1.GroupVersion.Group, Resource: "servers"}
	forbidden := apierrors.NewForbidden(gr, "web", errors.New("no"))
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: "Server"}, "web", field.ErrorList{field.Invalid(field.NewPath("status", "vmState"), "x", "bad")})
	for _, tc := range []struct {
		name     string
		err      error
		terminal bool
	}{
		{"forbidden", forbidden, true},
		{"invalid", invalid, true},
		{"wrapped invalid", fmt.Errorf("patching status: %w", invalid), true},
		{"joined with another", errors.Join(errors.New("driver"), forbidden), true},
		{"conflict", apierrors.NewConflict(gr, "web", errors.New("stale")), false},
		{"timeout", apierrors.NewServerTimeout(gr, "patch", 1), false},
		{"driver", errors.New("simulated: the hypervisor does not answer"), false},
	} {
		srv := &computev1.Server{}
		r := &ServerReconciler{}
		got := r.terminal(context.Background(), srv, tc.err)
		if isTerminal := errors.Is(got, reconcile.TerminalError(nil)); isTerminal != tc.terminal {
			t.Errorf("%s: terminal %v, want %v", tc.name, isTerminal, tc.terminal)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the cause is lost: %v", tc.name, got)
		}
		if blocked := srv.Status.Blocked != nil && srv.Status.Blocked.Reason == computev1.ReasonAPIRefused; blocked != tc.terminal {
			t.Errorf("%s: blocked %+v, want the refusal recorded %v", tc.name, srv.Status.Blocked, tc.terminal)
		}
	}
	if r := (&ServerReconciler{}); r.terminal(context.Background(), &computev1.Server{}, nil) != nil {
		t.Error("no error became one")
	}
}

// The debug endpoint changes hypervisor state without asking anyone: only loopback.
func TestDebugServerOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8779", ":8779", "10.1.2.3:8779", "example.com:8779", "127.0.0.1"} {
		if err := addDebugServer(nil, addr, nil); err == nil {
			t.Errorf("%s was accepted", addr)
		}
	}
}
