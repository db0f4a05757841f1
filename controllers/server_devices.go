package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
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

// Attaching and detaching devices: the interfaces of spec.networks (and the volumes of
// spec.volumes) that a built server has not got, or has and spec no longer lists. Each is
// a task like any other (one at a time, through the driver with its latency and faults),
// but Nova shows no task_state for it and a failure leaves the server as it was: the
// failure is recorded in status.deviceFailure, where the REST shim and kubectl users see it.

// Reasons of a device failure.
const (
	deviceDriverFault     = "DriverFault"
	deviceNoMoreFixedIps  = "NoMoreFixedIps"
	deviceNetworkNotFound = "NetworkNotFound"
	deviceFixedIPInUse    = "FixedIpAlreadyInUse"
	deviceInvalidFixedIP  = "InvalidFixedIp"
)

// driverDeviceOps are the driver operations of the device actions.
var driverDeviceOps = map[lifecycle.Action]compute.OpKind{
	lifecycle.ActionAttachInterface: compute.OpAttachInterface,
	lifecycle.ActionDetachInterface: compute.OpDetachInterface,
	lifecycle.ActionAttachVolume:    compute.OpAttachVolume,
	lifecycle.ActionDetachVolume:    compute.OpDetachVolume,
}

// startDeviceTask starts the next attach or detach that spec asks for, if the lifecycle
// allows it now (a server mid-task or shelved waits, blocked, as for any spec change).
func (r *ServerReconciler) startDeviceTask(ctx context.Context, srv *computev1.Server) (bool, error) {
	ch, ok := rules.NextDeviceChange(srv)
	if !ok {
		return false, nil
	}
	st := rules.LifecycleState(&srv.Status)
	if err := lifecycle.CheckLaunched(ch.Action, st, false, true, rules.Launched(srv), string(srv.UID)); err != nil {
		srv.Status.Blocked = &computev1.ServerBlocked{Reason: computev1.ReasonActionRefused, Message: err.Error()}
		return false, nil
	}
	var device string
	switch ch.Action {
	case lifecycle.ActionAttachInterface:
		net, _, failure := r.attachAddress(ctx, srv, ch.Network)
		if failure != nil {
			if isTransient(failure.err) {
				return false, failure.err
			}
			r.deviceFailed(ctx, srv, ch.Action, ch.Network.Name, failure.reason, failure.err.Error())
			return false, nil
		}
		device = net.Namespace + "/" + net.Name
	case lifecycle.ActionDetachInterface:
		device = ch.NetworkNamespace + "/" + ch.Network.Name
	case lifecycle.ActionAttachVolume:
		if _, err := rules.AssignDevice(srv, ch.Volume.ClaimName, ch.Volume.Device); err != nil {
			reason := deviceInvalidDevice
			if de, ok := err.(*rules.DeviceError); ok && de.InUse {
				reason = deviceDeviceInUse
			}
			r.deviceFailed(ctx, srv, ch.Action, ch.Volume.ClaimName, reason, err.Error())
			return false, nil
		}
		failure, err := r.claimVolume(ctx, srv, ch.Volume.ClaimName)
		if err != nil {
			return false, err
		}
		if failure != nil {
			r.deviceFailed(ctx, srv, ch.Action, ch.Volume.ClaimName, failure.reason, failure.err.Error())
			return false, nil
		}
		device = ch.Volume.ClaimName
	case lifecycle.ActionDetachVolume:
		device = ch.Attached.ClaimName
	default:
		return false, fmt.Errorf("no device change %q", ch.Action)
	}
	token := fmt.Sprintf("%s-g%d-%s", ch.Action, srv.Generation, strconv.FormatInt(r.now().UnixNano(), 36))
	r.beginTask(srv, ch.Action, token, "", nil)
	srv.Status.Operation.Device = device
	log.FromContext(ctx).Info("Started device task", "action", ch.Action, "device", device)
	return true, nil
}

type attachFailure struct {
	reason string
	err    error
}

// attachAddress resolves the network of an entry and takes its address, as a build does.
func (r *ServerReconciler) attachAddress(ctx context.Context, srv *computev1.Server, att computev1.NetworkAttachment) (*computev1.Network, netip.Addr, *attachFailure) {
	var net *computev1.Network
	err := r.resolve(func(c client.Reader) (err error) {
		net, err = refs.Network(ctx, c, srv.Namespace, r.PublicNamespace, att.Name)
		return err
	})
	if err != nil {
		return nil, netip.Addr{}, &attachFailure{deviceNetworkNotFound, err}
	}
	addr, err := r.Addresses.Allocate(ctx, net, string(srv.UID), att.FixedIP)
	switch {
	case errors.Is(err, ipam.ErrExhausted):
		// Nova's NoMoreFixedIps.
		return nil, netip.Addr{}, &attachFailure{deviceNoMoreFixedIps, fmt.Errorf("No fixed IP addresses available for network: %s", net.UID)} //nolint:staticcheck // Nova's words
	case errors.Is(err, ipam.ErrInUse):
		return nil, netip.Addr{}, &attachFailure{deviceFixedIPInUse, fmt.Errorf("Fixed IP address %s is already in use on instance %s.", att.FixedIP, srv.UID)} //nolint:staticcheck // Nova's words
	case err != nil:
		// A transient error is retried by the caller; any other is the request's (a fixed
		// address outside the network).
		return nil, netip.Addr{}, &attachFailure{deviceInvalidFixedIP, err}
	}
	return net, addr, nil
}

// deviceRef is the driver's name of the device an operation is about: the interface id for
// a network, the claim for a volume.
func deviceRef(srv *computev1.Server, op *computev1.ServerOperation) string {
	switch lifecycle.Action(op.Action) {
	case lifecycle.ActionAttachInterface, lifecycle.ActionDetachInterface:
		ns, name, _ := strings.Cut(op.Device, "/")
		return rules.InterfaceID(string(srv.UID), ns, name)
	}
	return op.Device
}

// finishDevice records an attach or detach the driver carried out.
func (r *ServerReconciler) finishDevice(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation) error {
	ns, name := deviceParts(op)
	ref := ipam.Ref{Namespace: ns, Name: name}
	switch lifecycle.Action(op.Action) {
	case lifecycle.ActionAttachInterface:
		net := &computev1.Network{}
		if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, net); err != nil {
			if refs.IsNotFound(err) || client.IgnoreNotFound(err) == nil {
				r.deviceFailed(ctx, srv, lifecycle.ActionAttachInterface, name, deviceNetworkNotFound,
					fmt.Sprintf("Network %s could not be found.", name))
				return r.Addresses.ReleaseOn(ctx, string(srv.UID), ref)
			}
			return err
		}
		want := ""
		for _, n := range srv.Spec.Networks {
			if n.Name == name {
				want = n.FixedIP
			}
		}
		addr, err := r.Addresses.Allocate(ctx, net, string(srv.UID), want)
		if err != nil {
			return err
		}
		srv.Status.Addresses = append(srv.Status.Addresses, addressOf(srv, net, addr))
	case lifecycle.ActionAttachVolume:
		att, err := r.volumeAttachment(ctx, srv, op.Device)
		if err != nil {
			if client.IgnoreNotFound(err) != nil && !isDeviceError(err) {
				return err
			}
			// The claim went away (or its device was taken) while the driver attached it.
			r.deviceFailed(ctx, srv, lifecycle.ActionAttachVolume, op.Device, deviceVolumeNotFound, err.Error())
			return r.releaseVolume(ctx, srv, op.Device, false)
		}
		srv.Status.VolumeAttachments = append(srv.Status.VolumeAttachments, att)
	case lifecycle.ActionDetachVolume:
		kept := srv.Status.VolumeAttachments[:0:0]
		for _, a := range srv.Status.VolumeAttachments {
			if a.ClaimName != op.Device {
				kept = append(kept, a)
			}
		}
		srv.Status.VolumeAttachments = kept
		// The claim is given back once no status says the server has it.
		afterStatus(ctx, func(ctx context.Context) error { return r.releaseVolume(ctx, srv, op.Device, false) })
	case lifecycle.ActionDetachInterface:
		kept := srv.Status.Addresses[:0:0]
		for _, a := range srv.Status.Addresses {
			if a.Type == "floating" || a.NetworkName != name || a.NetworkNamespace != ns {
				kept = append(kept, a)
			}
		}
		srv.Status.Addresses = kept
		// The address is given back once no status says the server holds it.
		afterStatus(ctx, func(ctx context.Context) error { return r.Addresses.ReleaseOn(ctx, string(srv.UID), ref) })
	}
	if f := srv.Status.DeviceFailure; f != nil && f.Device == name {
		srv.Status.DeviceFailure = nil
	}
	r.event(srv, corev1.EventTypeNormal, "DeviceChanged", op.Action, "Carried out "+op.Action+" of "+op.Device)
	return nil
}

// failDevice records an attach or detach the driver could not carry out: the server stays
// as it was, and an attach gives its address back.
func (r *ServerReconciler) failDevice(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation, fault *compute.Fault) (reconcile.Result, error) {
	ns, name := deviceParts(op)
	switch lifecycle.Action(op.Action) {
	case lifecycle.ActionAttachInterface:
		if err := r.Addresses.ReleaseOn(ctx, string(srv.UID), ipam.Ref{Namespace: ns, Name: name}); err != nil {
			return reconcile.Result{}, err
		}
	case lifecycle.ActionAttachVolume:
		if err := r.releaseVolume(ctx, srv, op.Device, false); err != nil {
			return reconcile.Result{}, err
		}
	}
	msg := unknownFailure
	if fault != nil {
		msg = fault.Message
	}
	srv.Status.Operation = nil
	r.deviceFailed(ctx, srv, lifecycle.Action(op.Action), name, deviceDriverFault, msg)
	return reconcile.Result{}, nil
}

// deviceFailed records that a device change of this generation of spec failed.
func (r *ServerReconciler) deviceFailed(ctx context.Context, srv *computev1.Server, a lifecycle.Action, device, reason, msg string) {
	srv.Status.DeviceFailure = &computev1.ServerDeviceFailure{Action: string(a), Device: device, Reason: reason,
		Message: msg, Generation: srv.Generation}
	log.FromContext(ctx).Info("Failed device task", "action", a, "device", device, "reason", reason, "message", msg)
	r.event(srv, corev1.EventTypeWarning, "DeviceFailed", string(a), msg)
}

// deviceParts are the namespace and name of an interface's network ("ns/name"), or no
// namespace and the claim of a volume.
func deviceParts(op *computev1.ServerOperation) (ns, name string) {
	if ns, name, ok := strings.Cut(op.Device, "/"); ok {
		return ns, name
	}
	return "", op.Device
}

func isDeviceError(err error) bool {
	_, ok := err.(*rules.DeviceError)
	return ok
}

// addressOf is the status record of an address on net.
func addressOf(srv *computev1.Server, net *computev1.Network, addr netip.Addr) computev1.ServerAddress {
	version := int32(4)
	if addr.Is6() {
		version = 6
	}
	return computev1.ServerAddress{
		Network: net.DisplayName(), Address: addr.String(), Version: version,
		MACAddress: rules.MAC(string(srv.UID), net.Name), Type: "fixed",
		NetworkNamespace: net.Namespace, NetworkName: net.Name,
	}
}
