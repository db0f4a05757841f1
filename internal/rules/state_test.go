package rules

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

func at(s int) metav1.Time { return metav1.NewTime(time.Unix(1700000000+int64(s), 0)) }

func TestLifecycleAction(t *testing.T) {
	tests := []struct {
		spec computev1.ServerActionSpec
		want lifecycle.Action
	}{
		{computev1.ServerActionSpec{Action: computev1.ActionReboot}, lifecycle.ActionRebootSoft},
		{computev1.ServerActionSpec{Action: computev1.ActionReboot, Reboot: &computev1.RebootParams{Type: "SOFT"}}, lifecycle.ActionRebootSoft},
		{computev1.ServerActionSpec{Action: computev1.ActionReboot, Reboot: &computev1.RebootParams{Type: "HARD"}}, lifecycle.ActionRebootHard},
		{computev1.ServerActionSpec{Action: computev1.ActionCreateImage}, lifecycle.ActionCreateImage},
		{computev1.ServerActionSpec{Action: computev1.ActionRevertResize}, lifecycle.ActionRevertResize},
		{computev1.ServerActionSpec{Action: computev1.ActionShelveOffload}, lifecycle.ActionShelveOffload},
	}
	for _, tt := range tests {
		if got := LifecycleAction(&computev1.ServerAction{Spec: tt.spec}); got != tt.want {
			t.Errorf("LifecycleAction(%+v) = %s, want %s", tt.spec, got, tt.want)
		}
		if _, ok := lifecycle.GuardFor(tt.want); !ok {
			t.Errorf("%s is no lifecycle action", tt.want)
		}
	}
}

func action(name, server string, created int, phase computev1.ActionPhase) computev1.ServerAction {
	return computev1.ServerAction{
		ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: name, CreationTimestamp: at(created)},
		Spec:       computev1.ServerActionSpec{ServerName: server, Action: computev1.ActionReboot},
		Status:     computev1.ServerActionStatus{Phase: phase},
	}
}

func TestPendingActions(t *testing.T) {
	srv := computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "web", CreationTimestamp: at(10), UID: "web-2"}}
	other := action("elsewhere", "web", 12, "")
	other.Namespace = "t2"
	// Made in the second the server was, for the earlier server of its name (whose history
	// is kept): the uid label says whose it is.
	earlier := action("earlier-server", "web", 10, "")
	earlier.Labels = map[string]string{computev1.LabelServerUID: "web-1"}
	own := action("own-uid", "web", 9, "")
	own.Labels = map[string]string{computev1.LabelServerUID: "web-2"}
	all := []computev1.ServerAction{
		earlier, own,
		action("b-new", "web", 12, ""),
		action("a-same-time", "web", 12, computev1.ActionPending),
		action("first", "web", 11, ""),
		action("at-create", "web", 10, ""),
		action("older-than-server", "web", 9, ""),
		action("done", "web", 11, computev1.ActionSucceeded),
		action("failed", "web", 11, computev1.ActionFailed),
		action("orphaned", "web", 13, computev1.ActionRunning),
		action("other-server", "db", 11, ""),
		other,
	}
	names := func(srv *computev1.Server) []string {
		var out []string
		for _, sa := range PendingActions(srv, all) {
			out = append(out, sa.Name)
		}
		return out
	}
	want := []string{"own-uid", "at-create", "first", "a-same-time", "b-new", "orphaned"}
	if got := names(&srv); !reflect.DeepEqual(got, want) {
		t.Errorf("with no task: %v, want %v", got, want)
	}
	// A Running action the server's task names is taken up; one it does not name is not.
	srv.Status.Operation = &computev1.ServerOperation{ServerAction: "orphaned"}
	if got := names(&srv); !reflect.DeepEqual(got, want[:5]) {
		t.Errorf("with its task running: %v, want %v", got, want[:5])
	}
	srv.Status.Operation = &computev1.ServerOperation{ServerAction: "first"}
	if got := names(&srv); !reflect.DeepEqual(got, want) {
		t.Errorf("with another task running: %v, want %v", got, want)
	}
}

func TestObservedState(t *testing.T) {
	srv := &computev1.Server{}
	if got := ObservedState(srv); got != lifecycle.Building() {
		t.Errorf("unseen server: %+v, want building", got)
	}
	srv.Status = computev1.ServerStatus{VMState: "stopped", TaskState: "powering-on", PowerState: 4}
	want := lifecycle.State{VM: lifecycle.VMStopped, Task: lifecycle.TaskPoweringOn, Power: lifecycle.PowerShutdown}
	if got := ObservedState(srv); got != want {
		t.Errorf("ObservedState = %+v, want %+v", got, want)
	}
	if got := LifecycleState(&srv.Status); got != want {
		t.Errorf("LifecycleState = %+v, want %+v", got, want)
	}
	if got := LifecycleState(&computev1.ServerStatus{}); got != (lifecycle.State{}) {
		t.Errorf("LifecycleState of nothing = %+v", got)
	}
	if Launched(srv) {
		t.Error("launched without launched_at")
	}
	now := at(0)
	srv.Status.LaunchedAt = &now
	if !Launched(srv) {
		t.Error("not launched with launched_at")
	}
}

func TestProjectedState(t *testing.T) {
	now := at(0)
	base := func() *computev1.Server {
		return &computev1.Server{
			ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "web", UID: "u1", Generation: 1, CreationTimestamp: at(0)},
			Spec:       wants(computev1.PowerActive, nil),
			Status: computev1.ServerStatus{VMState: "active", PowerState: 1, Flavor: "m1", Image: "cirros",
				ObservedGeneration: 1, LaunchedAt: &now},
		}
	}
	reboot := action("r", "web", 1, "")
	hard := reboot
	hard.Spec.Reboot = &computev1.RebootParams{Type: "HARD"}
	overriding := hard
	overriding.Spec.OverrideLock = true
	running := lifecycle.State{VM: lifecycle.VMActive, Power: lifecycle.PowerRunning}
	tests := []struct {
		name    string
		change  func(*computev1.Server)
		actions []computev1.ServerAction
		want    lifecycle.State
	}{
		{"settled", func(*computev1.Server) {}, nil, running},
		{"unseen", func(s *computev1.Server) { s.Status = computev1.ServerStatus{} }, []computev1.ServerAction{reboot}, lifecycle.Building()},
		{"deleting", func(s *computev1.Server) { s.DeletionTimestamp = &now }, nil,
			lifecycle.State{VM: lifecycle.VMActive, Task: lifecycle.TaskDeleting, Power: lifecycle.PowerRunning}},
		{"pending reboot", func(*computev1.Server) {}, []computev1.ServerAction{hard}, lifecycle.Begin(lifecycle.ActionRebootHard, running)},
		{"locked refuses", func(s *computev1.Server) { s.Status.Locked = true }, []computev1.ServerAction{hard}, running},
		{"lock overridden", func(s *computev1.Server) { s.Status.Locked = true }, []computev1.ServerAction{overriding}, lifecycle.Begin(lifecycle.ActionRebootHard, running)},
		{"task running", func(s *computev1.Server) {
			s.Status.Operation = &computev1.ServerOperation{}
			s.Status.TaskState = string(lifecycle.TaskPoweringOff)
		}, []computev1.ServerAction{hard}, lifecycle.State{VM: lifecycle.VMActive, Task: lifecycle.TaskPoweringOff, Power: lifecycle.PowerRunning}},
		{"spec change not observed", func(s *computev1.Server) { s.Generation, s.Spec.PowerState = 2, computev1.PowerStopped }, nil,
			lifecycle.Begin(lifecycle.ActionStop, running)},
		{"spec change observed", func(s *computev1.Server) {
			s.Generation, s.Status.ObservedGeneration, s.Spec.PowerState = 2, 2, computev1.PowerStopped
		}, nil, running},
		{"spec change refused", func(s *computev1.Server) {
			s.Generation, s.Spec.PowerState = 2, computev1.PowerSuspended
			s.Status.VMState, s.Status.PowerState = "paused", 3
		}, nil, lifecycle.State{VM: lifecycle.VMPaused, Power: lifecycle.PowerPaused}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := base()
			tt.change(srv)
			if got := ProjectedState(srv, tt.actions); got != tt.want {
				t.Errorf("ProjectedState = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSnapshotImage(t *testing.T) {
	srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "web", UID: "s1"},
		Status: computev1.ServerStatus{ImageUID: "i0"}}
	sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: "t1", Name: "web-ci", UID: "a1"},
		Spec: computev1.ServerActionSpec{ServerName: "web", Action: computev1.ActionCreateImage, RequestedBy: "alice",
			CreateImage: &computev1.CreateImageParams{ImageName: "snap", Metadata: map[string]string{"k": "v", "user_id": "set"}}}}
	img := SnapshotImage(srv, sa)
	if img.Name != "snapshot-a1" || SnapshotImageName(sa) != img.Name || img.Namespace != "t1" ||
		img.Labels[computev1.LabelServer] != "web" || len(img.OwnerReferences) != 0 {
		t.Errorf("object %+v", img.ObjectMeta)
	}
	want := computev1.ImageSpec{
		Name:            "snap",
		Source:          computev1.ImageSource{ServerSnapshot: &computev1.ServerSnapshotSource{ServerName: "web", ServerUID: "s1"}},
		DiskFormat:      "qcow2",
		ContainerFormat: "bare",
		Visibility:      "private",
		Metadata: map[string]string{"image_type": "snapshot", "instance_uuid": "s1", "base_image_ref": "i0",
			"user_id": "set", "k": "v"},
	}
	if !reflect.DeepEqual(img.Spec, want) {
		t.Errorf("spec %+v, want %+v", img.Spec, want)
	}
	sa.Spec.CreateImage = nil
	if img := SnapshotImage(srv, sa); img.Spec.Name != "" || img.Spec.Metadata["user_id"] != "alice" {
		t.Errorf("without parameters: %+v", img.Spec)
	}
}
