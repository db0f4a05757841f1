package testenv

import (
	"context"
	"slices"
	"sync"
)

// Warnings collects the warnings kube-apiserver sends a client (as kubectl prints them):
// set it as the client's rest.Config.WarningHandlerWithContext.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

// HandleWarningHeaderWithContext records a warning.
func (w *Warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

// All are the warnings so far.
func (w *Warnings) All() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}
