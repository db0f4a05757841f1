package v1alpha1

// Condition types. Ready and Progressing are observations for Kubernetes tools (kubectl
// wait, Argo CD); Nova's own view lives in the status fields beside them.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
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
)

// Finalizer is held by every object that owns backend state (a server's instance and
// addresses), so that deleting it releases everything first.
const Finalizer = "compute.kova.dev/finalizer"

// Labels that index owned objects.
const (
	LabelNetwork   = "compute.kova.dev/network"
	LabelServerUID = "compute.kova.dev/server-uid"
	LabelServer    = "compute.kova.dev/server"
)

// Annotations.
const (
	// AnnotationFault injects a fault in the simulated driver: "<step>" or
	// "<step>:<message>", where step is a driver operation (spawn, power_off, resize, ...).
	// Like the "behaviors" of Rackspace's mimic, it lets every error path be tested.
	AnnotationFault = "simulated.kova.dev/fail"
)
