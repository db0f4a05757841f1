package rules

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// A reboot the server's status records as completed is over, whatever its own status says
// (its outcome is written after the server's status, and read through another watch): it
// is not pending, and the server is shown as it is, not rebooting again. Without the
// record, the same Running reboot is pending and projected.
func TestCompletedActionIsNotPending(t *testing.T) {
	now := at(0)
	srv := &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "web", UID: "u1", Generation: 1, CreationTimestamp: at(0)},
		Spec:       wants(computev1.PowerActive, nil),
		Status: computev1.ServerStatus{VMState: "active", PowerState: 1, Flavor: "m1", Image: "cirros",
			ObservedGeneration: 1, LaunchedAt: &now},
	}
	reboot := action("r", "web", 1, computev1.ActionRunning)
	reboot.UID = "uid-r"
	actions := []computev1.ServerAction{reboot}
	running := lifecycle.State{VM: lifecycle.VMActive, Power: lifecycle.PowerRunning}

	if got := PendingActions(srv, actions); len(got) != 1 {
		t.Fatalf("without the record: pending %v, want the reboot", got)
	}
	if got := ProjectedState(srv.DeepCopy(), actions); got.Task != lifecycle.TaskRebooting {
		t.Fatalf("without the record: %+v, want rebooting", got)
	}
	RecordCompleted(&srv.Status, reboot.UID, computev1.ActionSucceeded, "", actions)
	if got := PendingActions(srv, actions); len(got) != 0 {
		t.Errorf("recorded completed, still pending: %v", got)
	}
	if got := ProjectedState(srv.DeepCopy(), actions); got != running {
		t.Errorf("recorded completed: shown %+v, want %+v", got, running)
	}
	if c := Completed(srv, &reboot); c == nil || c.Phase != computev1.ActionSucceeded {
		t.Errorf("Completed = %+v", c)
	}
	if c := Completed(srv, &computev1.ServerAction{}); c != nil {
		t.Errorf("an action with no uid is completed: %+v", c)
	}
}

// The record keeps the newest MaxCompletedActions, each action once, and bounds messages.
func TestRecordCompletedIsBounded(t *testing.T) {
	var st computev1.ServerStatus
	for i := range computev1.MaxCompletedActions + 3 {
		RecordCompleted(&st, types.UID(fmt.Sprint("a", i)), computev1.ActionSucceeded, "", nil)
	}
	RecordCompleted(&st, "a5", computev1.ActionFailed, strings.Repeat("é", computev1.MaxCompletedMessage+10), nil)
	if len(st.CompletedActions) != computev1.MaxCompletedActions {
		t.Fatalf("%d entries, want %d", len(st.CompletedActions), computev1.MaxCompletedActions)
	}
	var uids []string
	for _, c := range st.CompletedActions {
		uids = append(uids, string(c.UID))
	}
	if got, want := strings.Join(uids, ","), "a3,a4,a6,a7,a8,a9,a10,a5"; got != want {
		t.Errorf("entries %s, want %s", got, want)
	}
	last := st.CompletedActions[len(st.CompletedActions)-1]
	if last.Phase != computev1.ActionFailed || len([]rune(last.Message)) != computev1.MaxCompletedMessage {
		t.Errorf("last entry %s %s with %d runes", last.UID, last.Phase, len([]rune(last.Message)))
	}
}

// An entry goes once its action is seen finished, with the next record: a server carries
// the entries of the actions whose outcome is not seen yet, and the last one.
func TestRecordCompletedDropsSeenOutcomes(t *testing.T) {
	var st computev1.ServerStatus
	RecordCompleted(&st, "a1", computev1.ActionSucceeded, "", nil)
	RecordCompleted(&st, "a2", computev1.ActionFailed, "no", nil)
	seen := []computev1.ServerAction{
		{ObjectMeta: metav1.ObjectMeta{UID: "a1"}, Status: computev1.ServerActionStatus{Phase: computev1.ActionSucceeded}},
		{ObjectMeta: metav1.ObjectMeta{UID: "a2"}, Status: computev1.ServerActionStatus{Phase: computev1.ActionRunning}},
		{ObjectMeta: metav1.ObjectMeta{UID: "a3"}, Status: computev1.ServerActionStatus{Phase: computev1.ActionSucceeded}},
	}
	RecordCompleted(&st, "a3", computev1.ActionSucceeded, "", seen)
	var uids []string
	for _, c := range st.CompletedActions {
		uids = append(uids, string(c.UID))
	}
	if got := strings.Join(uids, ","); got != "a2,a3" {
		t.Errorf("entries %s, want a2,a3", got)
	}
}
