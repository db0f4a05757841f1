// Package compute holds the hypervisor driver interface that Kova's Server
// controller drives, in the spirit of Nova's virt driver, and the default
// "simulated" driver: hosts with vCPU/RAM/disk capacity, operations that take
// a configurable latency per step, per-operation fault injection, and state
// that survives a process restart.
//
// The controller is level-triggered: it calls Start (idempotent by
// OpRequest.Token) and then polls Get, requeueing after Instance.Op.NextIn.
// Instances are keyed by the Server's UID.
package compute

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

// Resources is an amount of compute capacity: a flavor, a host's capacity or
// a host's usage.
type Resources struct {
	VCPUs   int32 `json:"vcpus"`
	RAMMiB  int64 `json:"ramMiB"`
	DiskGiB int64 `json:"diskGiB"`
}

// Fits reports whether r has room for in, i.e. every dimension of in is at
// most the same dimension of r.
func (r Resources) Fits(in Resources) bool {
	return in.VCPUs <= r.VCPUs && in.RAMMiB <= r.RAMMiB && in.DiskGiB <= r.DiskGiB
}

func (r Resources) add(o Resources) Resources {
	return Resources{VCPUs: r.VCPUs + o.VCPUs, RAMMiB: r.RAMMiB + o.RAMMiB, DiskGiB: r.DiskGiB + o.DiskGiB}
}

func (r Resources) sub(o Resources) Resources {
	return Resources{VCPUs: r.VCPUs - o.VCPUs, RAMMiB: r.RAMMiB - o.RAMMiB, DiskGiB: r.DiskGiB - o.DiskGiB}
}

// OpKind names an operation on an instance.
type OpKind string

// The operations a driver performs.
const (
	OpSpawn         OpKind = "spawn"
	OpPowerOff      OpKind = "power_off"
	OpPowerOn       OpKind = "power_on"
	OpPause         OpKind = "pause"
	OpUnpause       OpKind = "unpause"
	OpSuspend       OpKind = "suspend"
	OpResume        OpKind = "resume"
	OpReboot        OpKind = "reboot"
	OpRebootHard    OpKind = "reboot_hard"
	OpRebuild       OpKind = "rebuild"
	OpRescue        OpKind = "rescue"
	OpUnrescue      OpKind = "unrescue"
	OpResize        OpKind = "resize"
	OpConfirmResize OpKind = "confirm_resize"
	OpRevertResize  OpKind = "revert_resize"
	OpSnapshot      OpKind = "snapshot"
	OpSetPassword   OpKind = "set_password"
	OpShelve        OpKind = "shelve"
	OpShelveOffload OpKind = "shelve_offload"
	OpUnshelve      OpKind = "unshelve"
	// Devices: OpRequest.Device names the network interface or the volume.
	OpAttachInterface OpKind = "attach_interface"
	OpDetachInterface OpKind = "detach_interface"
	OpAttachVolume    OpKind = "attach_volume"
	OpDetachVolume    OpKind = "detach_volume"
)

// Valid reports whether k is one of the known operation kinds.
func (k OpKind) Valid() bool {
	switch k {
	case OpSpawn, OpPowerOff, OpPowerOn, OpPause, OpUnpause, OpSuspend, OpResume,
		OpReboot, OpRebootHard, OpRebuild, OpRescue, OpUnrescue, OpResize,
		OpConfirmResize, OpRevertResize, OpSnapshot, OpSetPassword, OpShelve,
		OpShelveOffload, OpUnshelve, OpAttachInterface, OpDetachInterface,
		OpAttachVolume, OpDetachVolume:
		return true
	}
	return false
}

// OpRequest starts one operation on an instance.
type OpRequest struct {
	Kind OpKind
	// Token is the unique id of this request (e.g. the Server generation or
	// a ServerAction UID). Start with the same Token as the current/last op
	// is a no-op returning the current state (idempotency across restarts);
	// a different Token replaces a finished op.
	Token string
	// Steps is how many steps the op has (values below 1 count as 1);
	// progress = 100*done/Steps.
	Steps int
	// Flavor is what to place, for spawn, resize and unshelve. For unshelve
	// (and a re-spawn of a record whose spawn failed) a zero Flavor means the
	// instance's recorded flavor.
	Flavor Resources
	// Image is the image reference for spawn/rebuild (recorded on the
	// instance).
	Image string
	// Host and Node force a spawn's placement, as Nova's admin does with
	// "zone:host", "zone:host:node" or "zone::node" (force_hosts and
	// force_nodes): the instance goes there or nowhere. Nova skips its
	// filters for a forced host but still asks placement for room on it, so
	// an unknown host/node fails as NoSuchHostMessage and a full one as
	// NoRoomOnForcedHostMessage. Spawn only: Nova resets forced destinations
	// for a resize or an unshelve, which choose again.
	Host, Node string
	// Group is the server group a spawn boots into (nil: none); the driver keeps it for
	// the instance's later placements (unshelve, resize). A forced host skips it, as
	// Nova's forced destination skips the scheduler's filters.
	Group *Group
	// Device is what an attach or detach puts on or takes off the instance: an
	// interface's or a volume's id, recorded in Instance.Devices.
	Device string
	// EndOff leaves a rebuilt instance powered off, as Nova's rebuild brings a stopped
	// server back to its original state (rebuild only).
	EndOff bool
	// FailStep injects a fault: if >0, the op fails when it reaches this
	// step (1-based); values above Steps fail on the last step. 0 = no fault.
	FailStep int
	// FailMessage is the fault message recorded when FailStep triggers
	// (default "Simulated failure in <kind>").
	FailMessage string
}

// OpStatus is the state of an instance's current or last operation.
type OpStatus struct {
	Kind      OpKind
	Token     string
	Step      int // steps completed so far (0..Steps)
	Steps     int
	Progress  int32 // 0..100, 100*Step/Steps
	Done      bool  // finished successfully
	Failed    bool
	Fault     *Fault // set when Failed
	StartedAt time.Time
	NextIn    time.Duration // how long until the next step completes (0 when Done/Failed)
}

// Finished reports whether the op is over (Done or Failed).
func (o *OpStatus) Finished() bool { return o != nil && (o.Done || o.Failed) }

// Fault is an instance fault, as Nova records it.
type Fault struct {
	Code    int32     `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created"`
}

// Instance is the driver's view of one instance.
type Instance struct {
	ID        string               // the Server UID
	Host      string               // host it lives on ("" when offloaded / not placed)
	Power     lifecycle.PowerState // while an op runs: the pre-op power
	Flavor    Resources            // current allocation (the requested flavor when Host is "")
	OldFlavor *Resources           // during a resize until confirm/revert: the previous allocation, still held
	OldHost   string               // the host OldFlavor is held on
	Image     string
	// Devices are the interfaces and volumes attached (OpRequest.Device), sorted.
	Devices []string
	Op      *OpStatus // current or last op
}

// HostInfo describes a host's capacity and usage.
type HostInfo struct {
	Name      string
	Capacity  Resources
	Used      Resources
	Instances int // instances holding any allocation on the host
}

// Driver drives instances on hosts.
type Driver interface {
	// Start begins op on instance id (creating the record for OpSpawn).
	// Idempotent by req.Token. Errors: ErrNotFound for an unknown id
	// (non-spawn ops); ErrBusy if a different op is still running.
	// Placement failures are not errors: the op ends Failed with
	// Fault{Code: 500, Message: NoValidHostMessage}.
	Start(ctx context.Context, id string, req OpRequest) (Instance, error)
	// Get returns the instance, advancing its current op by the wall clock.
	Get(ctx context.Context, id string) (Instance, error)
	// Destroy removes the instance and frees everything it held. Idempotent:
	// nil for unknown ids.
	Destroy(ctx context.Context, id string) error
	// List returns every instance id the driver holds, sorted.
	List(ctx context.Context) ([]string, error)
	// Hosts returns each host's capacity and current usage.
	Hosts(ctx context.Context) ([]HostInfo, error)
}

// Errors returned by drivers. They are returned as is (not wrapped), so both
// == and errors.Is work.
var (
	ErrNotFound = errors.New("compute: instance not found")
	ErrBusy     = errors.New("compute: another operation is in progress on the instance")
)

// NoValidHostMessage is the fault message of a placement failure, as Nova's
// scheduler words it.
const NoValidHostMessage = "No valid host was found. There are not enough hosts available."

// NoRoomOnForcedHostMessage is the fault of a spawn forced onto a host that has no room:
// Nova's NoValidHost with the empty reason its scheduler gives when placement has no
// allocation candidate on that host (the trailing space is Nova's).
const NoRoomOnForcedHostMessage = "No valid host was found. "

// NoSuchHostMessage is the fault of a spawn forced onto a host or node that does not exist,
// worded as Nova's scheduler (resources_from_request_spec) words it: Python's None for the
// part not asked for, and the trailing space.
func NoSuchHostMessage(host, node string) string {
	return fmt.Sprintf("No valid host was found. No such host - host: %s node: %s ", pyStr(host), pyStr(node))
}

// pyStr is how Python's %s prints an optional string: None when absent.
func pyStr(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// HostID returns Nova's hostId for an instance of project tenant on host:
// the hex sha224 of project_id + host (nova.utils.generate_hostid, used by
// nova/api/openstack/compute/views/servers.py). It is "" when host is "".
func HostID(tenant, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(tenant + host))
	return hex.EncodeToString(sum[:])
}
