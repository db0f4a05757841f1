package rules

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A server's history (its ServerActions) outlives it, as Nova's instance actions outlive a
// deleted instance: the admission webhook records the delete as the Server is deleted (who,
// when, Nova's request id, and the create it ends), the controller completes that record
// when the server is gone, and removes the whole history a retention later.

// DefaultHistoryRetention is how long a deleted server's actions are kept. Nova keeps them
// until its operator archives deleted rows (nova-manage db archive_deleted_rows, commonly
// run from cron with --before a few days to a week); a week covers a weekly archive and an
// audit of the last one, and bounds what is kept to a week of deletes.
const DefaultHistoryRetention = 7 * 24 * time.Hour

// DeleteRecordName is the name of srv's delete record: one per server, so a second DELETE
// (or a retried webhook) finds the first one's.
func DeleteRecordName(srv *computev1.Server) string {
	return fmt.Sprintf("%.200s-delete-%s", srv.Name, srv.UID)
}

// DeleteRecord is the record of srv's delete by user with Nova's requestID ("" when the
// delete was not a REST call: one is made up, as for any other action through kubectl). It
// carries the server's create, which the record outlives.
func DeleteRecord(srv *computev1.Server, user, requestID string) *computev1.ServerAction {
	if requestID == "" {
		requestID = "req-" + uuid.NewString()
	}
	created := srv.CreationTimestamp.UTC().Format(time.RFC3339)
	return &computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: srv.Namespace,
			Name:      DeleteRecordName(srv),
			Labels: map[string]string{
				computev1.LabelServer: srv.Name, computev1.LabelFromSpec: "true", computev1.LabelServerUID: string(srv.UID),
			},
			Annotations: map[string]string{
				computev1.AnnotationUserID:                user,
				computev1.AnnotationServerCreatedAt:       created,
				computev1.AnnotationServerCreatedBy:       srv.Annotations[computev1.AnnotationUserID],
				computev1.AnnotationServerCreateRequestID: srv.Annotations[computev1.AnnotationRequestID],
			},
		},
		Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionDelete, RequestedBy: user, RequestID: requestID},
	}
}

// DeleteRequestID is Nova's request id of a delete of srv by user: the one the REST shim
// noted on the server for that user's DELETE, else none.
func DeleteRequestID(srv *computev1.Server, user string) string {
	if srv.Annotations[computev1.AnnotationDeleteRequestedBy] != user {
		return ""
	}
	return srv.Annotations[computev1.AnnotationDeleteRequestID]
}

// IsRecord says whether sa is a record Kova wrote (LabelFromSpec), never a request.
func IsRecord(sa *computev1.ServerAction) bool {
	return sa.Labels[computev1.LabelFromSpec] != ""
}

// IsDeleteRecord says whether sa records a server's delete.
func IsDeleteRecord(sa *computev1.ServerAction) bool {
	return IsRecord(sa) && sa.Spec.Action == computev1.ActionDelete
}

// ActionOf says whether sa is in srv's history. Actions are named by the server's name, which
// a later server may take again while the history of the one deleted is kept: the uid label
// decides, and an action without it (made before the label, or for a server that did not
// exist yet) counts from the server's creation on.
func ActionOf(srv *computev1.Server, sa *computev1.ServerAction) bool {
	if sa.Namespace != srv.Namespace || sa.Spec.ServerName != srv.Name {
		return false
	}
	if uid, ok := sa.Labels[computev1.LabelServerUID]; ok {
		return uid == string(srv.UID)
	}
	return !sa.CreationTimestamp.Before(&srv.CreationTimestamp)
}

// HistoryExpiry is when the history a delete record closes is removed: a retention after
// the server was gone (the record completed), or after the delete while it is not.
func HistoryExpiry(record *computev1.ServerAction, retention time.Duration) time.Time {
	at := record.CreationTimestamp.Time
	if record.Status.CompletionTime != nil {
		at = record.Status.CompletionTime.Time
	}
	return at.Add(retention)
}
