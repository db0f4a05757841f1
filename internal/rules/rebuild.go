package rules

import computev1 "github.com/kova-dev/kova/api/v1alpha1"

// A rebuild may give a server another keypair (Nova's key_name, 2.54) and other user data
// (user_data, 2.57). Spec stays the user's (spec.keyName and spec.userData say what the
// server booted with): the controller records the rebuild's values in status when it
// starts the rebuild, as Nova's API stores them on the instance before it answers, and
// every reader asks these functions, status first.

// ApplyRebuild records on st what a rebuild with p gives the server beyond its image; a
// field p leaves out keeps what the server has. p.KeyName is the keypair's Nova name (the
// REST API writes that; the controller resolves a name kubectl gave before it records it).
func ApplyRebuild(st *computev1.ServerStatus, p *computev1.RebuildParams) {
	if p == nil {
		return
	}
	if p.KeyName != nil {
		k := *p.KeyName
		st.KeyName = &k
	}
	if p.UserData != nil {
		ud := *p.UserData
		st.UserData = &ud
	}
}

// ServerUserData is the user data the server was last built with, base64 ("" for none).
func ServerUserData(srv *computev1.Server) string {
	if srv.Status.UserData != nil {
		return *srv.Status.UserData
	}
	return srv.Spec.UserData
}

// RebuiltKeyName is the Nova name of the keypair a rebuild gave the server ("" for none),
// and whether a rebuild gave it one at all (if not, spec.keyName is the server's keypair).
func RebuiltKeyName(srv *computev1.Server) (string, bool) {
	if srv.Status.KeyName != nil {
		return *srv.Status.KeyName, true
	}
	return "", false
}
