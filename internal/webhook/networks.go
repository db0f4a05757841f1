package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// checkNetworks checks the networks of spec.networks that are new (all of them at create,
// when old is nil): each must exist, and a fixed address may be asked for once.
func (v *ServerValidator) checkNetworks(ctx context.Context, srv *computev1.Server, old *computev1.Server) field.ErrorList {
	var errs field.ErrorList
	isNew := func(string) bool { return true }
	if old != nil {
		added, _ := rules.NetworkEdits(&old.Spec, &srv.Spec)
		set := map[string]bool{}
		for _, n := range added {
			set[n] = true
		}
		isNew = func(n string) bool { return set[n] }
	}
	seen := map[string]bool{}
	for i, n := range srv.Spec.Networks {
		if !isNew(n.Name) {
			continue
		}
		p := field.NewPath("spec", "networks").Index(i).Child("name")
		if seen[n.Name+"/"+n.FixedIP] && n.FixedIP != "" {
			errs = append(errs, field.Duplicate(p, n.Name))
		}
		seen[n.Name+"/"+n.FixedIP] = true
		err := v.resolve(func(c client.Reader) error {
			_, err := refs.Network(ctx, c, srv.Namespace, v.PublicNamespace, n.Name)
			return err
		})
		errs = appendRefError(errs, p, n.Name, err)
	}
	return errs
}

// checkNetworkEdits refuses an edit of spec.networks that no interface call could make: a
// second interface on a network the server is on already (Rackspace allows one per
// network and server), or another fixed address for an interface that stays.
func checkNetworkEdits(old, srv *computev1.Server) error {
	added, _ := rules.NetworkEdits(&old.Spec, &srv.Spec)
	if len(added) == 0 && len(srv.Spec.Networks) == len(old.Spec.Networks) && equalNetworks(old, srv) {
		return nil
	}
	was := map[string]string{}
	for _, n := range old.Spec.Networks {
		was[n.Name] = n.FixedIP
	}
	newOnes := map[string]bool{}
	for _, n := range added {
		newOnes[n] = true
	}
	var errs field.ErrorList
	count := map[string]int{}
	for i, n := range srv.Spec.Networks {
		p := field.NewPath("spec", "networks").Index(i)
		count[n.Name]++
		if newOnes[n.Name] && count[n.Name] > 1 {
			errs = append(errs, field.Invalid(p.Child("name"), n.Name, "a server has at most one virtual interface on a network"))
		}
		if fixed, ok := was[n.Name]; ok && fixed != n.FixedIP {
			errs = append(errs, field.Forbidden(p.Child("fixedIP"),
				"the address of an attached network does not change: remove the network, then add it again"))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(serverGK, srv.Name, errs)
	}
	return nil
}

func equalNetworks(old, srv *computev1.Server) bool {
	for i := range old.Spec.Networks {
		if old.Spec.Networks[i] != srv.Spec.Networks[i] {
			return false
		}
	}
	return true
}

// checkFinalizer keeps Kova's finalizer on a server until Kova is done with it: the
// controller takes it off once it has released what the server held (instance, addresses,
// volumes). Now that a creator may edit a server (to attach a network), nobody but the
// cloud operator (whom the manager's own identity counts as) may take it off; anyone else
// would leak what the server holds.
func (v *ServerValidator) checkFinalizer(ctx context.Context, old, srv *computev1.Server) error {
	if !controllerutil.ContainsFinalizer(old, computev1.Finalizer) || controllerutil.ContainsFinalizer(srv, computev1.Finalizer) {
		return nil
	}
	admin, err := v.Admins.IsAdmin(ctx, userOf(ctx))
	if err != nil {
		return internalError(err)
	}
	if !admin {
		return forbidden(srv.Name, "metadata.finalizers: "+computev1.Finalizer+" is removed by Kova once the server's resources are released")
	}
	return nil
}
