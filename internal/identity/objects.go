package identity

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Users and application credentials are read from the informer cache, and past it when the
// cache has not seen them (or not this version of them): a user declared a moment ago logs
// in at once, through any replica, as a server made a moment ago is found
// (internal/novaapi/consistency.go).

// get reads an identity object by name into obj, past the cache if stale(obj) says the
// cached one will not do (nil: only when the cache has none).
func (s *Service) get(ctx context.Context, name string, obj client.Object, stale func() bool) error {
	key := client.ObjectKey{Namespace: s.cfg.Namespace, Name: name}
	err := s.cfg.Cache.Get(ctx, key, obj)
	if err == nil && (stale == nil || !stale()) {
		return nil
	}
	if ignoreNotFound(err) != nil {
		return err
	}
	return s.cfg.Live.Get(ctx, key, obj)
}

// user reads a User by name.
func (s *Service) user(ctx context.Context, name string) (*computev1.User, error) {
	u := &computev1.User{}
	return u, s.get(ctx, name, u, nil)
}

// tokenUser reads the User behind a token: the cache's copy if it is the token's object
// (same UID), else the API server's (the user may have been made again a moment ago).
func (s *Service) tokenUser(ctx context.Context, t *Token) (*computev1.User, error) {
	u := &computev1.User{}
	return u, s.get(ctx, t.UserObject, u, func() bool { return string(u.UID) != t.UserUID })
}

// usersByID lists the Users (from the cache, then past it if none has id) to find id's.
func (s *Service) userByID(ctx context.Context, id string) *computev1.User {
	for _, r := range []client.Reader{s.cfg.Cache, s.cfg.Live} {
		var list computev1.UserList
		if err := r.List(ctx, &list, client.InNamespace(s.cfg.Namespace)); err != nil {
			return nil
		}
		for i := range list.Items {
			if userID(&list.Items[i]) == id {
				return &list.Items[i]
			}
		}
	}
	return nil
}
