package webhook

import (
	"context"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// checkRebuild refuses a rebuild's new keypair or user data as the REST API does (Nova's
// rebuild, 2.54 and 2.57): the keypair must be one of the requester's (Nova looks a
// rebuild's key_name up among the caller's keypairs), the user data base64. "" removes
// either and needs no check; the CRD bounds their lengths as the Server spec's.
func (w *ServerActionWebhook) checkRebuild(ctx context.Context, sa *computev1.ServerAction) field.ErrorList {
	p := sa.Spec.Rebuild
	if p == nil {
		return nil
	}
	path := field.NewPath("spec", "rebuild")
	var errs field.ErrorList
	if p.KeyName != nil && *p.KeyName != "" {
		err := refs.Resolve(w.Client, w.Reader, func(c client.Reader) error {
			_, err := refs.Keypair(ctx, c, sa.Namespace, userOf(ctx).Username, *p.KeyName)
			return err
		})
		errs = appendRefError(errs, path.Child("keyName"), *p.KeyName, err)
	}
	if p.UserData != nil && *p.UserData != "" {
		if _, err := rules.DecodeBase64(*p.UserData); err != nil {
			errs = append(errs, field.Invalid(path.Child("userData"), field.OmitValueType{}, rules.UserDataNotBase64))
		}
	}
	return errs
}
