package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// unknownFailure is Nova's fault message when a task failed for no reason the backend gave.
const unknownFailure = "Unknown failure"

// actionBuild is the operation of a boot; it is not a lifecycle action because nothing
// can ask for it but the creation of the server.
const actionBuild = "build"

// buildToken is the driver token of a boot: fixed, so a controller that crashed between
// starting the spawn and recording it resumes the same spawn instead of making another.
const buildToken = "spawn"

// buildTasks are the task_states a boot shows per driver step: progress 0 while the
// network is wired, 50 while the guest spawns, 100 when it is ACTIVE.
var buildTasks = []lifecycle.TaskState{lifecycle.TaskNetworking, lifecycle.TaskSpawning}

// driverOps maps a lifecycle action to the driver operation that carries it out.
var driverOps = map[lifecycle.Action]compute.OpKind{
	lifecycle.ActionStop:           compute.OpPowerOff,
	lifecycle.ActionStart:          compute.OpPowerOn,
	lifecycle.ActionPause:          compute.OpPause,
	lifecycle.ActionUnpause:        compute.OpUnpause,
	lifecycle.ActionSuspend:        compute.OpSuspend,
	lifecycle.ActionResume:         compute.OpResume,
	lifecycle.ActionRebootSoft:     compute.OpReboot,
	lifecycle.ActionRebootHard:     compute.OpRebootHard,
	lifecycle.ActionRebuild:        compute.OpRebuild,
	lifecycle.ActionResize:         compute.OpResize,
	lifecycle.ActionConfirmResize:  compute.OpConfirmResize,
	lifecycle.ActionRevertResize:   compute.OpRevertResize,
	lifecycle.ActionRescue:         compute.OpRescue,
	lifecycle.ActionUnrescue:       compute.OpUnrescue,
	lifecycle.ActionCreateImage:    compute.OpSnapshot,
	lifecycle.ActionChangePassword: compute.OpSetPassword,
	lifecycle.ActionShelve:         compute.OpShelve,
	lifecycle.ActionShelveOffload:  compute.OpShelveOffload,
	lifecycle.ActionUnshelve:       compute.OpUnshelve,
}

func setState(srv *computev1.Server, s lifecycle.State) {
	srv.Status.VMState = string(s.VM)
	srv.Status.TaskState = string(s.Task)
	srv.Status.PowerState = int32(s.Power)
}

// waitingToBuild says whether a server has not started its boot yet: new, or shown as
// BUILD/scheduling (as Nova shows a server before it is scheduled) while it waits for its
// image. Nothing else leaves a server building with no operation.
func waitingToBuild(srv *computev1.Server) bool {
	vm := lifecycle.VMState(srv.Status.VMState)
	return vm == "" || vm == lifecycle.VMBuilding && srv.Status.Operation == nil
}

// beginBuild resolves what the server is made of, takes its addresses and starts the
// spawn. It runs again on every reconcile until the spawn starts, so a server that waits
// for its image builds once the image is active. Whatever the backend cannot do ends the
// server in ERROR with a fault that says why: a server never stays in BUILD for a reason
// nobody can see.
func (r *ServerReconciler) beginBuild(ctx context.Context, srv *computev1.Server) (reconcile.Result, error) {
	setState(srv, lifecycle.Building())
	srv.Status.Progress = 0

	var flavor *computev1.Flavor
	err := r.resolve(func(c client.Reader) (err error) {
		flavor, err = refs.Flavor(ctx, c, srv.Spec.FlavorRef)
		return err
	})
	if err != nil {
		return r.failBuild(ctx, srv, err)
	}
	var image *computev1.Image
	err = r.resolve(func(c client.Reader) (err error) {
		image, err = refs.Image(ctx, c, srv.Namespace, r.PublicNamespace, srv.Spec.ImageRef)
		return err
	})
	if err != nil {
		return r.failBuild(ctx, srv, err)
	}
	switch image.Status.Status {
	case computev1.ImageActive:
	case computev1.ImageKilled, computev1.ImageDeleted:
		// Nova's compute manager aborts the build with ImageNotActive's message.
		return r.failBuild(ctx, srv, fmt.Errorf("Build of instance %s aborted: Image %s is not active.", srv.UID, image.UID)) //nolint:staticcheck // Nova's words
	default:
		// An image applied together with the server, or a snapshot still being saved,
		// becomes active in a while: the image's watch wakes this server then.
		srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonDependencyError,
			Message: fmt.Sprintf("Waiting for image %s to become active (it is %s).", image.Name, orQueued(image.Status.Status))}
		return reconcile.Result{RequeueAfter: requeueDependency}, nil
	}
	if err := rules.FitsImage(flavor, image); err != nil {
		return r.failBuild(ctx, srv, err)
	}
	if srv.Spec.KeyName != "" {
		if err := r.resolve(func(c client.Reader) error {
			_, err := refs.ServerKeypair(ctx, c, srv)
			return err
		}); err != nil {
			return r.failBuild(ctx, srv, err)
		}
	}
	srv.Status.Blocked = nil

	addrs, err := r.allocateAddresses(ctx, srv)
	if err != nil {
		return r.failBuild(ctx, srv, err)
	}
	srv.Status.Addresses = addrs
	srv.Status.Operation = &computev1.ServerOperation{
		Action:    actionBuild,
		Token:     buildToken,
		Flavor:    flavor.Name,
		Image:     image.Name,
		StartedAt: metav1.NewTime(r.now()),
	}
	srv.Status.ImageUID = string(image.UID)
	// The build carries out the flavor and image the spec asks for; the power state and
	// rescue it reaches (active, not rescued) are where the spec's own start from.
	ap := rules.Applied(&srv.Status)
	ap.FlavorRef, ap.ImageRef, ap.PowerState, ap.Rescue = flavor.Name, image.Name, computev1.PowerActive, false
	srv.Status.Applied = &ap
	log.FromContext(ctx).Info("Started build", "flavor", flavor.Name, "image", image.Name)
	return r.advance(ctx, srv)
}

// resolve runs a lookup on the cache and, when the cache has not got the object, once more
// past it: a flavor or image applied together with the server may not be cached yet, and a
// build must not fail for that.
func (r *ServerReconciler) resolve(lookup func(client.Reader) error) error {
	return refs.Resolve(r.Client, r.APIReader, lookup)
}

func orQueued(p computev1.ImagePhase) string {
	if p == "" {
		return string(computev1.ImageQueued)
	}
	return string(p)
}

// allocateAddresses takes one address on each network the server asks for.
func (r *ServerReconciler) allocateAddresses(ctx context.Context, srv *computev1.Server) ([]computev1.ServerAddress, error) {
	var out []computev1.ServerAddress
	for _, att := range srv.Spec.Networks {
		var net *computev1.Network
		err := r.resolve(func(c client.Reader) (err error) {
			net, err = refs.Network(ctx, c, srv.Namespace, r.PublicNamespace, att.Name)
			return err
		})
		if err != nil {
			return nil, err
		}
		addr, err := r.Addresses.Allocate(ctx, net, string(srv.UID), att.FixedIP)
		switch {
		case errors.Is(err, ipam.ErrExhausted):
			return nil, fmt.Errorf("No more IP addresses available on network %s.", net.Name) //nolint:staticcheck // Nova's words
		case err != nil:
			return nil, err
		}
		out = append(out, addressOf(srv, net, addr))
	}
	return out, nil
}

// failBuild ends a boot in ERROR and gives back what it took.
func (r *ServerReconciler) failBuild(ctx context.Context, srv *computev1.Server, cause error) (reconcile.Result, error) {
	var nf *refs.NotFoundError
	var inv *refs.InvalidError
	if !errors.As(cause, &nf) && !errors.As(cause, &inv) && isTransient(cause) {
		return reconcile.Result{}, cause
	}
	if err := r.releaseAddresses(ctx, srv); err != nil {
		return reconcile.Result{}, err
	}
	srv.Status.Addresses = nil
	srv.Status.Blocked = nil
	r.setFault(srv, 500, cause.Error())
	setState(srv, lifecycle.Failed(lifecycle.PowerNoState))
	srv.Status.Operation = nil
	log.FromContext(ctx).Info("Failed build", "fault", cause.Error())
	r.event(srv, corev1.EventTypeWarning, "BuildFailed", "Build", cause.Error())
	return reconcile.Result{}, nil
}

// isTransient says whether err is the API server's (retry) rather than the request's.
func isTransient(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (r *ServerReconciler) setFault(srv *computev1.Server, code int32, msg string) {
	srv.Status.Fault = &computev1.ServerFault{Code: code, Message: msg, Created: metav1.NewTime(r.now())}
}

// stepsOf is what the server shows, step by step, while op runs.
func stepsOf(srv *computev1.Server, op *computev1.ServerOperation) []lifecycle.TaskState {
	if op.Action == actionBuild {
		return buildTasks
	}
	from := rules.LifecycleState(&srv.Status)
	return lifecycle.StepsFrom(lifecycle.Action(op.Action), from, lifecycle.VMState(op.PreviousVMState))
}

// opRequest is the driver request that carries op out. It is rebuilt identically on every
// reconcile; the driver treats a repeat of the same token as a no-op.
func (r *ServerReconciler) opRequest(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation) (compute.OpRequest, error) {
	steps := len(stepsOf(srv, op))
	req := compute.OpRequest{Token: op.Token, Steps: max(steps, 1), Image: op.Image}
	if op.Action == actionBuild {
		req.Kind = compute.OpSpawn
		// The admin's forced host ("zone:host[:node]", "zone::node"); admission refuses a
		// zone that does not parse, and spec.availabilityZone is immutable.
		_, req.Host, req.Node, _ = computev1.ParseAvailabilityZone(srv.Spec.AvailabilityZone)
		group, err := r.serverGroup(ctx, srv)
		if err != nil {
			return req, err
		}
		req.Group = group
	} else if kind, ok := driverDeviceOps[lifecycle.Action(op.Action)]; ok {
		req.Kind, req.Device = kind, deviceRef(srv, op)
	} else {
		kind, ok := driverOps[lifecycle.Action(op.Action)]
		if !ok {
			return req, fmt.Errorf("no driver operation for action %q", op.Action)
		}
		req.Kind = kind
	}
	// Nova's rebuild brings a stopped server back to its original state: off.
	req.EndOff = req.Kind == compute.OpRebuild && op.PreviousVMState == string(lifecycle.VMStopped)
	if op.Flavor != "" && (req.Kind == compute.OpSpawn || req.Kind == compute.OpResize) {
		f, err := refs.Flavor(ctx, r.Client, op.Flavor)
		if err != nil {
			return req, err
		}
		req.Flavor = compute.Resources{VCPUs: f.Spec.VCPUs, RAMMiB: f.Spec.RAM, DiskGiB: f.Spec.Disk + f.Spec.Ephemeral}
	}
	if step, msg, ok := injectedFault(srv, req.Kind); ok {
		req.FailStep = min(step, req.Steps)
		req.FailMessage = msg
	}
	return req, nil
}

// injectedFault reads the simulated driver's fault annotation: "<op>", "<op>:<message>"
// or "<op>@<step>:<message>".
func injectedFault(srv *computev1.Server, kind compute.OpKind) (step int, msg string, ok bool) {
	v, found := srv.Annotations[computev1.AnnotationFault]
	if !found {
		return 0, "", false
	}
	head, msg, _ := strings.Cut(v, ":")
	name, at, hasStep := strings.Cut(head, "@")
	if compute.OpKind(strings.TrimSpace(name)) != kind {
		return 0, "", false
	}
	step = 1 << 30 // the last step
	if hasStep {
		if n, err := strconv.Atoi(at); err == nil && n > 0 {
			step = n
		}
	}
	return step, strings.TrimSpace(msg), true
}

// advance polls the running task on the driver and moves the server along its steps.
func (r *ServerReconciler) advance(ctx context.Context, srv *computev1.Server) (reconcile.Result, error) {
	op := srv.Status.Operation
	req, err := r.opRequest(ctx, srv, op)
	if err != nil {
		if refs.IsNotFound(err) {
			return r.failTask(ctx, srv, &compute.Fault{Code: 500, Message: err.Error()})
		}
		return reconcile.Result{}, err
	}
	inst, err := r.Driver.Start(ctx, string(srv.UID), req)
	switch {
	case errors.Is(err, compute.ErrBusy):
		// A task of an earlier controller is still finishing on the backend.
		return reconcile.Result{RequeueAfter: requeueDependency}, nil
	case errors.Is(err, compute.ErrNotFound):
		return r.failTask(ctx, srv, &compute.Fault{Code: 500,
			Message: fmt.Sprintf("Instance %s could not be found on its host.", srv.UID)})
	case err != nil:
		return reconcile.Result{}, err
	}
	if inst.Op == nil || inst.Op.Token != op.Token {
		return reconcile.Result{}, fmt.Errorf("driver answered for operation %v, want %s", inst.Op, op.Token)
	}
	switch {
	case inst.Op.Failed:
		return r.failTask(ctx, srv, inst.Op.Fault)
	case inst.Op.Done:
		return r.finishTask(ctx, srv, inst)
	}
	if op.Action == actionBuild {
		srv.Status.TaskState = string(buildTasks[min(inst.Op.Step, len(buildTasks)-1)])
	} else if len(stepsOf(srv, op)) > 0 {
		setState(srv, lifecycle.AtStep(lifecycle.Action(op.Action), rules.LifecycleState(&srv.Status),
			lifecycle.VMState(op.PreviousVMState), inst.Op.Step))
	}
	if op.Action == actionBuild || op.Action == string(lifecycle.ActionResize) {
		srv.Status.Progress = inst.Op.Progress
	}
	r.setHost(srv, inst.Host)
	return reconcile.Result{RequeueAfter: max(inst.Op.NextIn, requeueMinimum)}, nil
}

func (r *ServerReconciler) setHost(srv *computev1.Server, host string) {
	srv.Status.Host = host
	srv.Status.HostID = ""
	if host != "" {
		srv.Status.HostID = compute.HostID(srv.Namespace, host)
	}
}

// failTask records a backend failure as Nova does: the server goes to ERROR with the fault,
// and the action that asked for it fails with the fault's message.
func (r *ServerReconciler) failTask(ctx context.Context, srv *computev1.Server, fault *compute.Fault) (reconcile.Result, error) {
	op := srv.Status.Operation
	if fault == nil {
		fault = &compute.Fault{Code: 500, Message: unknownFailure}
	}
	if rules.IsDeviceAction(lifecycle.Action(op.Action)) {
		return r.failDevice(ctx, srv, op, fault)
	}
	if op.Action == actionBuild {
		// Nova deallocates the network of a build that failed; so does Kova.
		if err := r.releaseAddresses(ctx, srv); err != nil {
			return reconcile.Result{}, err
		}
		srv.Status.Addresses = nil
		r.setHost(srv, "")
	}
	if op.Action == string(lifecycle.ActionCreateImage) {
		if err := r.setSnapshotPhase(ctx, srv, op, computev1.ImageKilled); err != nil {
			return reconcile.Result{}, err
		}
	}
	power := lifecycle.PowerState(srv.Status.PowerState)
	setState(srv, lifecycle.Failed(power))
	r.setFault(srv, fault.Code, fault.Message)
	srv.Status.Operation = nil
	r.completeAction(ctx, srv, op, computev1.ActionFailed, fault.Message)
	log.FromContext(ctx).Info("Failed task", "action", op.Action, "fault", fault.Message)
	r.event(srv, corev1.EventTypeWarning, "TaskFailed", op.Action, fault.Message)
	return reconcile.Result{}, nil
}

// finishTask applies the end state of a task that the driver completed.
func (r *ServerReconciler) finishTask(ctx context.Context, srv *computev1.Server, inst compute.Instance) (reconcile.Result, error) {
	op := srv.Status.Operation
	now := metav1.NewTime(r.now())
	a := lifecycle.Action(op.Action)
	r.setHost(srv, inst.Host)
	srv.Status.Fault = nil

	switch op.Action {
	case actionBuild:
		setState(srv, lifecycle.Built())
		srv.Status.Progress = 100
		srv.Status.LaunchedAt = &now
		srv.Status.Flavor = op.Flavor
		srv.Status.Image = op.Image
	default:
		setState(srv, lifecycle.Finish(a, rules.LifecycleState(&srv.Status), lifecycle.VMState(op.PreviousVMState)))
	}

	switch a {
	case lifecycle.ActionResize:
		srv.Status.OldFlavor = srv.Status.Flavor
		srv.Status.Flavor = op.Flavor
		srv.Status.Progress = 100
	case lifecycle.ActionConfirmResize:
		srv.Status.OldFlavor = ""
	case lifecycle.ActionRevertResize:
		srv.Status.Flavor, srv.Status.OldFlavor = srv.Status.OldFlavor, ""
	case lifecycle.ActionRebuild:
		srv.Status.Image = op.Image
		if img, err := refs.Image(ctx, r.Client, srv.Namespace, r.PublicNamespace, op.Image); err == nil {
			srv.Status.ImageUID = string(img.UID)
		}
	case lifecycle.ActionShelve:
		if err := r.saveShelvedImage(ctx, srv); err != nil {
			return reconcile.Result{}, err
		}
	case lifecycle.ActionUnshelve:
		if err := r.dropShelvedImage(ctx, srv); err != nil {
			return reconcile.Result{}, err
		}
	case lifecycle.ActionCreateImage:
		if err := r.setSnapshotPhase(ctx, srv, op, computev1.ImageActive); err != nil {
			return reconcile.Result{}, err
		}
		if err := r.rotateBackups(ctx, srv, op); err != nil {
			return reconcile.Result{}, err
		}
	case lifecycle.ActionAttachInterface, lifecycle.ActionDetachInterface,
		lifecycle.ActionAttachVolume, lifecycle.ActionDetachVolume:
		if err := r.finishDevice(ctx, srv, op); err != nil {
			return reconcile.Result{}, err
		}
	}
	srv.Status.Operation = nil
	r.completeAction(ctx, srv, op, computev1.ActionSucceeded, "")
	log.FromContext(ctx).Info("Finished task", "action", op.Action, "status", lifecycle.Status(lifecycle.VMState(srv.Status.VMState), lifecycle.TaskNone))

	if a == lifecycle.ActionShelve && r.OffloadShelved {
		// Nova's default shelved_offload_time of 0: the host is given back at once.
		r.beginTask(srv, lifecycle.ActionShelveOffload, op.Token+"-offload", "", nil)
		return r.advance(ctx, srv)
	}
	return reconcile.Result{}, nil
}

// beginTask records that action a starts now: the state Nova shows right after it accepts
// the action, and the operation the driver will carry out.
func (r *ServerReconciler) beginTask(srv *computev1.Server, a lifecycle.Action, token, serverAction string, target *computev1.ServerOperation) {
	cur := rules.LifecycleState(&srv.Status)
	op := &computev1.ServerOperation{
		Action:          string(a),
		Token:           token,
		ServerAction:    serverAction,
		PreviousVMState: string(cur.VM),
		StartedAt:       metav1.NewTime(r.now()),
	}
	if target != nil {
		op.Flavor, op.Image = target.Flavor, target.Image
	}
	if a == lifecycle.ActionRevertResize || a == lifecycle.ActionConfirmResize {
		// Nova's old_vm_state: a server resized while stopped stays powered off.
		op.PreviousVMState = string(lifecycle.VMActive)
		if cur.Power == lifecycle.PowerShutdown {
			op.PreviousVMState = string(lifecycle.VMStopped)
		}
	}
	srv.Status.Operation = op
	srv.Status.Blocked = nil
	setState(srv, lifecycle.Begin(a, cur))
	if a == lifecycle.ActionResize {
		srv.Status.Progress = 0
	}
}

// completeAction records the outcome on the ServerAction a task carried out, once the
// server's status shows it (an action seen ended says its server shows it): a status write
// that loses leaves the action as it was, and the next reconcile ends the task again.
func (r *ServerReconciler) completeAction(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation, phase computev1.ActionPhase, msg string) {
	if op.ServerAction != "" && !specTask(op) {
		// A ServerAction's task has the action's uid for its token (startNextAction). The
		// cached actions only prune older entries: without them, the bound does.
		seen, _, err := r.serverActions(ctx, srv)
		if err != nil {
			seen = nil
		}
		rules.RecordCompleted(&srv.Status, types.UID(op.Token), phase, msg, seen)
	}
	if op.ServerAction != "" {
		afterStatus(ctx, func(ctx context.Context) error { return r.writeOutcome(ctx, srv, op, phase, msg) })
	}
}

func (r *ServerReconciler) writeOutcome(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation, phase computev1.ActionPhase, msg string) error {
	sa := &computev1.ServerAction{}
	err := r.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: op.ServerAction}, sa)
	if apierrors.IsNotFound(err) && specTask(op) {
		// The record of a spec-driven task whose write after the status did not land.
		return r.recordSpecAction(ctx, srv, op.ServerAction, lifecycle.Action(op.Action), op, phase, msg)
	}
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	return r.setActionPhase(ctx, sa, phase, msg, srv)
}

func (r *ServerReconciler) setActionPhase(ctx context.Context, sa *computev1.ServerAction, phase computev1.ActionPhase, msg string, srv *computev1.Server) error {
	if sa.Status.Phase == phase && sa.Status.Message == msg {
		return nil
	}
	// The Secret a password came in goes before the action is seen ended: set, Kova keeps
	// no copy; failed, none of Kova's lingers.
	if err := releasePasswordSecret(ctx, r.Client, r.APIReader, sa, phase); err != nil {
		return err
	}
	patch := client.MergeFrom(sa.DeepCopy())
	now := metav1.NewTime(r.now())
	sa.Status.Phase = phase
	sa.Status.Message = msg
	if srv != nil {
		sa.Status.ServerUID = string(srv.UID)
	}
	if sa.Status.StartTime == nil {
		sa.Status.StartTime = &now
	}
	if phase.Ended() {
		sa.Status.CompletionTime = &now
	}
	return client.IgnoreNotFound(r.Status().Patch(ctx, sa, patch))
}

// requeueSoon is the wait after recording a task, before the driver is asked to run it.
func requeueSoon() reconcile.Result { return reconcile.Result{RequeueAfter: time.Millisecond} }
