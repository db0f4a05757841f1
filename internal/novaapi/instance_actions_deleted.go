package novaapi

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/rules"
)

// A deleted server's instance actions (from 2.21, Nova's 404 before): its history outlives
// it for the manager's retention, found by the server's uid (LabelServerUID) among the
// tenant's ServerActions, past the cache so the delete just answered is there. The delete
// record (rules.DeleteRecord) says the server existed and keeps its create; without one,
// the server is unknown.

// deletedServerActions is the deleted server with uid id in ns as far as its history tells
// (uid and tenant; the server itself is gone), its create and its ServerActions.
func (h *handler) deletedServerActions(ctx context.Context, ns, id string) (*computev1.Server, instanceAction, []computev1.ServerAction, error) {
	uid := js.CanonicalUUID(id)
	var list computev1.ServerActionList
	if err := h.live.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{computev1.LabelServerUID: uid}); err != nil {
		return nil, instanceAction{}, nil, err
	}
	for i := range list.Items {
		if record := &list.Items[i]; rules.IsDeleteRecord(record) {
			srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: record.Spec.ServerName, UID: types.UID(uid)}}
			return srv, recordedCreate(record), list.Items, nil
		}
	}
	return nil, instanceAction{}, nil, notFound("Instance %s could not be found.", id)
}

// recordedCreate is the create's entry as the delete record keeps it (see createAction).
func recordedCreate(record *computev1.ServerAction) instanceAction {
	reqID := record.Annotations[computev1.AnnotationServerCreateRequestID]
	if reqID == "" {
		reqID = "req-" + record.Labels[computev1.LabelServerUID]
	}
	start, err := time.Parse(time.RFC3339, record.Annotations[computev1.AnnotationServerCreatedAt])
	if err != nil {
		start = record.CreationTimestamp.UTC()
	}
	return instanceAction{action: "create", requestID: reqID, userID: record.Annotations[computev1.AnnotationServerCreatedBy],
		start: start.UTC(), updated: start.UTC()}
}
