package views

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

// InstanceAction is one entry of GET /servers/{id}/os-instance-actions, and (with its
// events) GET .../os-instance-actions/{request_id} (views/instance_actions.py).
//
//	2.1+   the fields below; events in the show for Nova's admin
//	2.51+  events in the show for everyone (host and traceback still for the admin)
//	2.58+  updated_at
//	2.62+  an event's hostId, and for the admin its host
type InstanceAction struct {
	Action       string         `json:"action"`
	InstanceUUID string         `json:"instance_uuid"`
	RequestID    string         `json:"request_id"`
	UserID       string         `json:"user_id"`
	ProjectID    string         `json:"project_id"`
	StartTime    string         `json:"start_time"`
	Message      Opt[string]    `json:"message"` // "Error" when it failed, else null
	UpdatedAt    string         `json:"updated_at,omitempty"`
	Events       *[]ActionEvent `json:"events,omitempty"`
}

// ActionEvent is the compute manager's event behind an action.
type ActionEvent struct {
	Event      string      `json:"event"`
	StartTime  string      `json:"start_time"`
	FinishTime Opt[string] `json:"finish_time"`
	Result     Opt[string] `json:"result"`             // Success, Error, or null while it runs
	Traceback  Opt[string] `json:"traceback,omitzero"` // the admin's
	HostID     *string     `json:"hostId,omitempty"`   // 2.62+
	Host       *string     `json:"host,omitempty"`     // 2.62+, the admin's
}

// NewInstanceAction lays out one action of a server at v; failed shows "Error" as its
// message.
func NewInstanceAction(a InstanceAction, start, updated time.Time, failed bool, v microversion.Version) *InstanceAction {
	a.StartTime = NaiveTime(start)
	a.Message = Null[string]()
	if failed {
		a.Message = Some("Error")
	}
	if v.AtLeast(58) {
		a.UpdatedAt = NaiveTime(updated)
	}
	return &a
}

// EventInput is what an action's event shows: the compute event's name, when it ran,
// how it ended (result: "", "Success" or "Error"; message the failure's), and where.
type EventInput struct {
	Event           string
	Start           time.Time
	Finish          *metav1.Time
	Result, Message string
	HostID, Host    string
	Admin           bool
}

// NewActionEvent lays out an event at v.
func NewActionEvent(in EventInput, v microversion.Version) ActionEvent {
	ev := ActionEvent{
		Event:      in.Event,
		StartTime:  NaiveTime(in.Start),
		FinishTime: NaiveOrNull(in.Finish),
		Result:     OrNull(in.Result),
	}
	if in.Admin {
		ev.Traceback = Null[string]()
		if in.Result == "Error" && in.Message != "" {
			ev.Traceback = Some(in.Message)
		}
	}
	if v.AtLeast(62) {
		ev.HostID = &in.HostID
		if in.Admin {
			ev.Host = &in.Host
		}
	}
	return ev
}
