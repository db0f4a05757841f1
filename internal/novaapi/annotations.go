package novaapi

import (
	"encoding/json"
	"time"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Nova facts about a server that Server.spec has no field for, and that the controller
// does not act on, are kept in annotations under nova.kova.dev/: who created it, its
// description and access addresses, the disk config and config drive asked for, tags,
// and the history of the actions asked through this API.
const (
	annPrefix        = "nova.kova.dev/"
	annUserID        = computev1.AnnotationUserID
	annDescription   = annPrefix + "description"
	annAccessIPv4    = annPrefix + "access-ipv4"
	annAccessIPv6    = annPrefix + "access-ipv6"
	annDiskConfig    = annPrefix + "disk-config"
	annConfigDrive   = annPrefix + "config-drive"
	annTags          = annPrefix + "tags"
	annReservationID = annPrefix + "reservation-id"
	annLaunchIndex   = annPrefix + "launch-index"
	annKeyName       = annPrefix + "key-name"
	annActions       = computev1.AnnotationInstanceActions
)

// maxRecordedActions bounds the action history kept on a server.
const maxRecordedActions = 100

// recordedAction is one entry of a server's action history: an action Nova records
// (stop, lock, resize, ...) that Kova carries out as a spec change rather than a
// ServerAction.
type recordedAction struct {
	Action    string    `json:"action"`
	RequestID string    `json:"requestID"`
	UserID    string    `json:"userID"`
	StartTime time.Time `json:"startTime"`
}

func recordedActions(srv *computev1.Server) []recordedAction {
	raw, ok := srv.Annotations[annActions]
	if !ok {
		return nil
	}
	var out []recordedAction
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil
	}
	return out
}

// recordAction appends an action to srv's history, in memory.
func recordAction(srv *computev1.Server, ra recordedAction) {
	list := append(recordedActions(srv), ra)
	if len(list) > maxRecordedActions {
		list = list[len(list)-maxRecordedActions:]
	}
	b, _ := json.Marshal(list)
	setAnnotation(srv, annActions, string(b))
}

func setAnnotation(srv *computev1.Server, k, v string) {
	if srv.Annotations == nil {
		srv.Annotations = map[string]string{}
	}
	srv.Annotations[k] = v
}

func annotation(srv *computev1.Server, k string) (string, bool) {
	v, ok := srv.Annotations[k]
	return v, ok
}

func annotationOr(srv *computev1.Server, k, def string) string {
	if v, ok := srv.Annotations[k]; ok {
		return v
	}
	return def
}

func serverTags(srv *computev1.Server) []string {
	tags := []string{}
	if raw, ok := srv.Annotations[annTags]; ok {
		_ = json.Unmarshal([]byte(raw), &tags)
	}
	return tags
}
