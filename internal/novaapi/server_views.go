package novaapi

import (
	"context"
	"strconv"
	"strings"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// What a server's view needs from the handler: its image's id, its flavor, whether the
// caller is Nova's admin, and the facts kept in annotations. The view itself, field by
// field and microversion by microversion, is package views (views/server.go).

// serverView says which parts of the view a response carries, and (for a rebuild) the
// image it shows.
type serverView struct {
	views.ServerShape
	// imageID replaces the image shown (a rebuild's new image).
	imageID *string
}

// serverFlavorID is the flavor a server has (or, before it is built, the one it asked for).
func serverFlavorID(srv *computev1.Server) string {
	if srv.Status.Flavor != "" {
		return srv.Status.Flavor
	}
	return srv.Spec.FlavorRef
}

// serverImageName is the Image a server runs (the one its spec names until it is built).
func serverImageName(srv *computev1.Server) string {
	if srv.Status.Image != "" {
		return srv.Status.Image
	}
	return srv.Spec.ImageRef
}

// serverImageID is the Nova id (uid) of the image a server runs.
func (h *handler) serverImageID(ctx context.Context, srv *computev1.Server) (string, error) {
	name := srv.Status.Image
	if name != "" && srv.Status.ImageUID != "" {
		return srv.Status.ImageUID, nil
	}
	if name == "" {
		name = srv.Spec.ImageRef
	}
	img, err := h.imageByName(ctx, srv.Namespace, name)
	if err != nil || img == nil {
		return "", err
	}
	return string(img.UID), nil
}

// keyNameOpt is keyName for a view: the name, or null.
func keyNameOpt(srv *computev1.Server) views.Opt[string] {
	if k, ok := keyName(srv).(string); ok {
		return views.Some(k)
	}
	return views.Null[string]()
}

// keyName is the Nova name of a server's keypair, or nil: the one a rebuild gave it, else
// the one it booted with.
func keyName(srv *computev1.Server) any {
	if v, ok := rules.RebuiltKeyName(srv); ok {
		if v == "" {
			return nil
		}
		return v
	}
	if v, ok := annotation(srv, annKeyName); ok {
		return v
	}
	if srv.Spec.KeyName == "" {
		return nil
	}
	return srv.Spec.KeyName
}

// buildServer renders one server at the request's microversion: it finds what the view
// shows (image, flavor, whether the caller is Nova's admin, the facts kept in
// annotations) and package views lays it out.
func (rq *request) buildServer(srv *computev1.Server, st lifecycle.State, o serverView) (*views.Server, error) {
	srv, err := rq.withFloating(srv)
	if err != nil {
		return nil, err
	}
	in := views.ServerInput{
		Server: srv, State: st, Version: rq.version, Shape: o.ServerShape,
		Links:         rq.links("servers", string(srv.UID)),
		UserID:        annotationOr(srv, annUserID, ""),
		AccessIPv4:    srv.Spec.AccessIPv4,
		AccessIPv6:    srv.Spec.AccessIPv6,
		DiskConfig:    annotationOr(srv, annDiskConfig, "MANUAL"),
		ConfigDrive:   annotationOr(srv, annConfigDrive, ""),
		KeyName:       keyNameOpt(srv),
		Description:   views.Null[string](),
		Tags:          serverTags(srv),
		ReservationID: reservationID(srv),
		DefaultAZ:     defaultAZ,
	}
	if d := srv.Spec.Description; d != nil {
		in.Description = views.Some(*d)
	}
	if rq.version.AtLeast(71) && !o.InList {
		if in.ServerGroups, err = rq.h.serverGroupsOf(rq.ctx, srv); err != nil {
			return nil, err
		}
	}
	if s, ok := annotation(srv, annLaunchIndex); ok {
		in.LaunchIndex, _ = strconv.Atoi(s)
	}
	imageID := ""
	if o.imageID != nil {
		imageID = *o.imageID
	} else {
		var err error
		if imageID, err = rq.h.serverImageID(rq.ctx, srv); err != nil {
			return nil, err
		}
	}
	in.Image = ""
	if imageID != "" {
		in.Image = views.Ref{ID: imageID, Links: rq.bookmark("images", imageID)}
	}
	if in.Flavor, err = rq.serverFlavor(srv); err != nil {
		return nil, err
	}
	// Nova's admin sees more of the full view, and of a fault the details of a 500.
	if f := srv.Status.Fault; o.Full || (f != nil && f.Details != "") {
		if in.Admin, err = rq.isAdmin(); err != nil {
			return nil, err
		}
	}
	return views.NewServer(in), nil
}

func reservationID(srv *computev1.Server) string {
	if r, ok := annotation(srv, annReservationID); ok {
		return r
	}
	return "r-" + strings.ReplaceAll(string(srv.UID), "-", "")[:8]
}

// serverFlavor is the flavor part of the view: a reference before 2.47, the flavor's
// contents from it.
func (rq *request) serverFlavor(srv *computev1.Server) (any, error) {
	id := serverFlavorID(srv)
	if !rq.version.AtLeast(47) {
		return views.Ref{ID: id, Links: rq.bookmark("flavors", id)}, nil
	}
	f, err := rq.h.flavor(rq.ctx, id)
	if err != nil {
		return nil, err
	}
	return views.NewEmbeddedFlavor(f), nil
}

// serverShow renders a server for GET /servers/{id}.
func (rq *request) serverShow(srv *computev1.Server) (*views.Server, error) {
	srv, st, err := rq.h.shownState(rq.ctx, srv)
	if err != nil {
		return nil, err
	}
	return rq.buildServer(srv, st, serverView{ServerShape: views.ServerShape{Full: true}})
}
