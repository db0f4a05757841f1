package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// FlowControlDir holds Kova's API Priority and Fairness objects (kustomize layout).
func FlowControlDir() string { return filepath.Join(Root(), "config", "flowcontrol") }

// ApplyFlowControl creates the priority levels and flow schemas of config/flowcontrol, as
// cmd/localcp does: Kova's clients have no client-side limit, so the stacks the tests run
// on share the API server out the way a cluster with the manifests does.
func (s *Stack) ApplyFlowControl(ctx context.Context) error {
	entries, err := os.ReadDir(FlowControlDir())
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") || e.Name() == "kustomization.yaml" {
			continue
		}
		if err := s.Apply(ctx, filepath.Join(FlowControlDir(), e.Name()), nil); err != nil {
			return err
		}
	}
	return nil
}
