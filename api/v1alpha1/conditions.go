package v1alpha1

// Condition types. Ready and Progressing are observations for Kubernetes tools (kubectl
// wait, Argo CD); Nova's own view lives in the status fields beside them.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	// ConditionChangedBehindKova is True when Kova found the server's instance changed
	// outside Kova (powered off, crashed, gone) and followed, as Nova's power-state sync
	// does. Its observedGeneration is the spec it happened under: Kova does not undo the
	// change (no power action of that spec runs again) until the spec changes.
	ConditionChangedBehindKova = "ChangedBehindKova"
)

// Condition reasons: specific, CamelCase, so a reader can tell why without the message.
const (
	ReasonBuilding        = "Building"
	ReasonTaskRunning     = "TaskRunning"
	ReasonIdle            = "Idle"
	ReasonActive          = "Active"
	ReasonInactive        = "Inactive"
	ReasonFailed          = "Failed"
	ReasonActionRefused   = "ActionRefused"
	ReasonDependencyError = "DependencyNotReady"
	ReasonDeleting        = "Deleting"
	ReasonAvailable       = "Available"
	// ReasonPowerSynced: the instance's power changed behind Kova's back and Kova
	// followed (Nova's stop API from its power-state sync).
	ReasonPowerSynced = "PowerStateSynced"
	// ReasonInstanceNotFound: the instance is gone from the hypervisor.
	ReasonInstanceNotFound = "InstanceNotFound"
	// ReasonAPIRefused: the API server refused a write as forbidden (403) or invalid
	// (422); retrying would not help, so Kova does not.
	ReasonAPIRefused = "APIRefused"
)

// Finalizer is held by every object that owns backend state (a server's instance and
// addresses), so that deleting it releases everything first.
const Finalizer = "compute.kova.dev/finalizer"

// Labels that index owned objects.
const (
	LabelServer = "compute.kova.dev/server"
)

// Labels of the time a server was made, in buckets of four widths (the bucket's start in
// Unix seconds), set by the admission webhook as the server is created and never changed:
// an update that sets one to another value is refused, and one that takes one away (a
// kubectl replace of a manifest without them) gets it back.
// They let the REST shim LIST the servers made between two times (the servers one page of
// a list in creation order shows) rather than all of them, by a range of the finest
// (`created-1s>a,created-1s<b`, internal/rules.CreatedSelectionFor).
const (
	LabelCreated1s   = "compute.kova.dev/created-1s"
	LabelCreated1e3s = "compute.kova.dev/created-1e3s"
	LabelCreated1e5s = "compute.kova.dev/created-1e5s"
	LabelCreated1e7s = "compute.kova.dev/created-1e7s"
)

// Annotations.
const (
	// AnnotationFault injects a fault in the simulated driver: "<step>" or
	// "<step>:<message>", where step is a driver operation (spawn, power_off, resize, ...).
	// Like the "behaviors" of Rackspace's mimic, it lets every error path be tested.
	AnnotationFault = "simulated.kova.dev/fail"
)
