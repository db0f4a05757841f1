package controllers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/rules"
)

// setDerivedStatus fills what is derived from the facts, last and from nothing else: the API
// status, the power state's name, the one-line networks and the conditions. Nothing here is
// read back to decide anything. observedGeneration (of the status and its conditions)
// moves on only when ok: the reconcile that saw this generation succeeded.
func setDerivedStatus(srv *computev1.Server, now time.Time, ok bool) {
	st := &srv.Status
	vm, task := lifecycle.VMState(st.VMState), lifecycle.TaskState(st.TaskState)
	st.Status = ""
	if vm != "" {
		st.Status = lifecycle.Status(vm, task)
	}
	st.Power = lifecycle.PowerState(st.PowerState).String()
	if vm == "" {
		st.Power = ""
	}
	if vm != lifecycle.VMError {
		st.Fault = nil
	}
	st.Networks = networksLine(st.Addresses)
	if ok {
		st.ObservedGeneration = srv.Generation
	}

	ready, progressing := serverConditions(srv)
	ready.ObservedGeneration, progressing.ObservedGeneration = st.ObservedGeneration, st.ObservedGeneration
	setCondition(&st.Conditions, ready, now)
	setCondition(&st.Conditions, progressing, now)
}

// setCondition sets c, keeping the transition time when the status did not change.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, now time.Time) {
	c.LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
	if old := meta.FindStatusCondition(*conds, c.Type); old != nil && old.Status == c.Status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	meta.SetStatusCondition(conds, c)
}

// serverConditions says, for Kubernetes tools, whether the server is where its spec wants
// it (Ready) and whether it is on its way (Progressing).
func serverConditions(srv *computev1.Server) (ready, progressing metav1.Condition) {
	st := &srv.Status
	ready = metav1.Condition{Type: computev1.ConditionReady, Status: metav1.ConditionFalse}
	progressing = metav1.Condition{Type: computev1.ConditionProgressing, Status: metav1.ConditionFalse,
		Reason: computev1.ReasonIdle, Message: "No task is running."}
	status := st.Status

	if !srv.DeletionTimestamp.IsZero() {
		ready.Reason, ready.Message = computev1.ReasonDeleting, "The server is being deleted."
		progressing.Status, progressing.Reason, progressing.Message = metav1.ConditionTrue, computev1.ReasonDeleting, "Task deleting is running."
		return ready, progressing
	}
	switch {
	case st.Operation != nil || st.VMState == string(lifecycle.VMBuilding):
		progressing.Status = metav1.ConditionTrue
		progressing.Reason = computev1.ReasonTaskRunning
		progressing.Message = fmt.Sprintf("Task %s is running.", orNone(st.TaskState))
		if st.VMState == string(lifecycle.VMBuilding) {
			progressing.Reason = computev1.ReasonBuilding
			progressing.Message = fmt.Sprintf("The server is building (%d%%).", st.Progress)
		}
	case st.Blocked != nil:
		progressing.Reason = st.Blocked.Reason
		progressing.Message = st.Blocked.Message
	}

	switch {
	case st.VMState == string(lifecycle.VMError):
		ready.Reason = computev1.ReasonFailed
		ready.Message = "The server is in ERROR."
		if st.Fault != nil {
			ready.Message = "The server is in ERROR: " + st.Fault.Message
		}
	case st.Blocked != nil && st.Operation == nil:
		ready.Reason = st.Blocked.Reason
		ready.Message = st.Blocked.Message
	case st.Operation != nil || st.VMState == "" || st.VMState == string(lifecycle.VMBuilding):
		ready.Reason = computev1.ReasonTaskRunning
		if st.VMState == "" || st.VMState == string(lifecycle.VMBuilding) {
			ready.Reason = computev1.ReasonBuilding
		}
		ready.Message = fmt.Sprintf("The server is %s.", orNone(status))
	case currentDrift(srv) != nil && !rules.AtDesiredState(srv):
		c := currentDrift(srv)
		ready.Reason = c.Reason
		ready.Message = fmt.Sprintf("The server is %s: %s Its spec applies again when it changes.", status, c.Message)
	case !rules.AtDesiredState(srv):
		ready.Reason = computev1.ReasonInactive
		ready.Message = fmt.Sprintf("The server is %s; its spec asks for another state.", status)
	default:
		ready.Status = metav1.ConditionTrue
		ready.Reason = computev1.ReasonActive
		ready.Message = fmt.Sprintf("The server is %s as its spec asks.", status)
	}
	return ready, progressing
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// networksLine prints addresses as `openstack server list` does: net1=10.0.0.3; net2=...
func networksLine(addrs []computev1.ServerAddress) string {
	var parts []string
	var cur string
	var ips []string
	flush := func() {
		if cur != "" {
			parts = append(parts, cur+"="+strings.Join(ips, ", "))
		}
	}
	for _, a := range addrs {
		if a.Network != cur {
			flush()
			cur, ips = a.Network, nil
		}
		ips = append(ips, a.Address)
	}
	flush()
	return strings.Join(parts, "; ")
}

// setImageConditions derives an image's Ready condition from its Glance status.
func setImageConditions(img *computev1.Image) {
	c := metav1.Condition{Type: computev1.ConditionReady, Status: metav1.ConditionFalse,
		ObservedGeneration: img.Generation, Reason: string(img.Status.Status)}
	switch img.Status.Status {
	case computev1.ImageActive:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, computev1.ReasonAvailable, "The image is active."
	case computev1.ImageKilled:
		c.Reason, c.Message = computev1.ReasonFailed, "The image upload failed."
	case computev1.ImageSaving:
		c.Reason, c.Message = "Saving", "The image is being saved."
	default:
		c.Reason, c.Message = "Queued", "The image is queued."
	}
	setCondition(&img.Status.Conditions, c, time.Now())
}
