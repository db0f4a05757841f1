package novaapi

import computev1 "github.com/kova-dev/kova/api/v1alpha1"

// Nova facts about a server that Server.spec has no field for, and that the controller
// does not act on, are kept in annotations under nova.kova.dev/, all set when the server
// is created: who created it and the request id of the create, the disk config and config
// drive asked for. Description, tags and access addresses are spec fields.
const (
	annPrefix        = "nova.kova.dev/"
	annUserID        = computev1.AnnotationUserID
	annDiskConfig    = annPrefix + "disk-config"
	annConfigDrive   = annPrefix + "config-drive"
	annReservationID = annPrefix + "reservation-id"
	annLaunchIndex   = annPrefix + "launch-index"
	annKeyName       = annPrefix + "key-name"
	annRequestID     = computev1.AnnotationRequestID
)

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
	if srv.Spec.Tags == nil {
		return []string{}
	}
	return srv.Spec.Tags
}
