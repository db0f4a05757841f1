package identity

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"k8s.io/klog/v2"
)

// PathPrefix is where the identity service is served on the direct endpoint.
const PathPrefix = "/identity"

// maxBodyBytes bounds a request body: a login is a few hundred bytes.
const maxBodyBytes = 64 << 10

// The version Kova speaks: Keystone Zed's v3.14, with its media type.
const (
	apiVersion  = "v3.14"
	versionDate = "2020-04-07T00:00:00Z"
)

// ServeHTTP serves /identity, /identity/v3 and /identity/v3/... . Nothing here logs a
// request's body or headers: they carry passwords and tokens.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, PathPrefix), "/")
	switch {
	case path == "":
		s.onlyGet(w, r, func() {
			writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{s.version()}}})
		})
	case path == "/v3":
		s.onlyGet(w, r, func() { writeJSON(w, http.StatusOK, map[string]any{"version": s.version()}) })
	case path == "/v3/auth/tokens":
		switch r.Method {
		case http.MethodPost:
			s.issue(w, r)
		case http.MethodGet, http.MethodHead:
			s.validate(w, r)
		case http.MethodDelete:
			s.revokeToken(w, r)
		default:
			s.writeError(w, http.StatusMethodNotAllowed, msgNoMethod)
		}
	case path == "/v3/auth/projects":
		s.onlyGet(w, r, func() { s.listProjects(w, r, "") })
	case path == "/v3/auth/catalog":
		s.onlyGet(w, r, func() { s.getCatalog(w, r) })
	case strings.HasPrefix(path, "/v3/users/") && strings.HasSuffix(path, "/projects"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/v3/users/"), "/projects")
		if id == "" || strings.Contains(id, "/") {
			s.writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		s.onlyGet(w, r, func() { s.listProjects(w, r, id) })
	default:
		s.writeError(w, http.StatusNotFound, msgNotFound)
	}
}

// onlyGet runs serve for GET (and HEAD) requests, and answers 405 to any other method.
func (s *Service) onlyGet(w http.ResponseWriter, r *http.Request, serve func()) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, http.StatusMethodNotAllowed, msgNoMethod)
		return
	}
	serve()
}

func (s *Service) version() map[string]any {
	return map[string]any{
		"id": apiVersion, "status": "stable", "updated": versionDate,
		keyLinks:      []map[string]string{{"rel": keySelf, "href": s.cfg.Endpoint + PathPrefix + "/v3/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}
}

// issue is POST /v3/auth/tokens: a login.
func (s *Service) issue(w http.ResponseWriter, r *http.Request) {
	var body authRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.writeError(w, http.StatusRequestEntityTooLarge, msgTooLarge)
			return
		}
		s.writeError(w, http.StatusBadRequest, msgMalformed)
		return
	}
	t, err := s.login(r.Context(), &body, clientAddr(r))
	if err != nil {
		s.writeLoginError(w, err)
		return
	}
	s.writeToken(w, r, t, http.StatusCreated)
}

// writeToken signs t and answers it: the token in X-Subject-Token, its body in the body.
func (s *Service) writeToken(w http.ResponseWriter, r *http.Request, t *Token, code int) {
	key, err := s.keys.signing(r.Context())
	if err != nil {
		s.internal(w, err)
		return
	}
	signed, err := sign(t, key)
	if err != nil {
		s.internal(w, err)
		return
	}
	s.writeTokenBody(w, r, t, signed, code)
}

func (s *Service) writeTokenBody(w http.ResponseWriter, r *http.Request, t *Token, signed string, code int) {
	_, noCatalog := r.URL.Query()["nocatalog"]
	view, valid, err := s.tokenView(r.Context(), t, !noCatalog)
	if err != nil {
		s.internal(w, err)
		return
	}
	if !valid {
		s.writeError(w, http.StatusNotFound, msgTokenNotFound)
		return
	}
	w.Header().Set("X-Subject-Token", signed)
	if r.Method == http.MethodHead {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, view)
}

// validate is GET and HEAD /v3/auth/tokens: the caller (X-Auth-Token) asks about a token
// (X-Subject-Token), its own or, as the cloud operator, anyone's.
func (s *Service) validate(w http.ResponseWriter, r *http.Request) {
	subject, ok := s.subject(w, r)
	if !ok {
		return
	}
	s.writeTokenBody(w, r, subject, r.Header.Get("X-Subject-Token"), http.StatusOK)
}

// revokeToken is DELETE /v3/auth/tokens: the token is refused from now on, by every
// replica.
func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) {
	subject, ok := s.subject(w, r)
	if !ok {
		return
	}
	if subject.kubernetes {
		s.writeError(w, http.StatusForbidden, "A Kubernetes token is revoked in Kubernetes: delete its ServiceAccount, or the Secret or Pod it is bound to.")
		return
	}
	if err := s.revoke(r.Context(), subject); err != nil {
		s.internal(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// subject authenticates the caller and reads the token it asks about; it has answered the
// request when it returns false.
func (s *Service) subject(w http.ResponseWriter, r *http.Request) (*Token, bool) {
	caller, callerToken, ok := s.caller(r)
	if !ok {
		s.writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return nil, false
	}
	raw := r.Header.Get("X-Subject-Token")
	if raw == "" {
		s.writeError(w, http.StatusBadRequest, "Expecting to find X-Subject-Token in the request headers.")
		return nil, false
	}
	_, allowExpired := r.URL.Query()["allow_expired"]
	allowExpired = allowExpired && r.URL.Query().Get("allow_expired") != "0" && r.URL.Query().Get("allow_expired") != "false"
	var subject *Token
	if IsKovaToken(raw) {
		subject, _ = s.check(r.Context(), raw, allowExpired)
		if subject != nil && allowExpired && s.cfg.Now().After(subject.ExpiresAt.Add(allowExpiredWindow)) {
			subject = nil
		}
	} else if len(raw) <= maxTokenBytes {
		subject = s.kubeTokenView(r.Context(), raw)
	}
	if subject == nil {
		s.writeError(w, http.StatusNotFound, msgTokenNotFound)
		return nil, false
	}
	// A user may ask about its own tokens; only the cloud operator about anyone's.
	own := (callerToken != nil && callerToken.UserID == subject.UserID) || caller.GetName() == subject.KubeName
	if !own {
		admin, err := s.isCloudAdmin(r.Context(), caller)
		if err != nil {
			s.internal(w, err)
			return nil, false
		}
		if !admin {
			s.writeError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:validate_token.")
			return nil, false
		}
	}
	return subject, true
}

// listProjects is GET /v3/auth/projects (userID "") and /v3/users/{id}/projects: the
// projects where RBAC grants the user a role. Only the user itself and the cloud
// operator may list a user's projects.
func (s *Service) listProjects(w http.ResponseWriter, r *http.Request, userID string) {
	caller, callerToken, ok := s.caller(r)
	if !ok {
		s.writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}
	who := caller
	if userID != "" {
		self := (callerToken != nil && callerToken.UserID == userID) || (callerToken == nil && kubeUserID(caller.GetName()) == userID)
		if !self {
			admin, err := s.isCloudAdmin(r.Context(), caller)
			if err != nil {
				s.internal(w, err)
				return
			}
			if !admin {
				s.writeError(w, http.StatusForbidden, "You are not authorized to perform the requested action: identity:list_user_projects.")
				return
			}
			u := s.userByID(r.Context(), userID)
			if u == nil {
				s.writeError(w, http.StatusNotFound, "Could not find user: "+truncate(userID, maxIDLen)+".")
				return
			}
			who = s.userToken(u, "").User()
		}
	}
	names, err := s.projects(r.Context(), who)
	if err != nil {
		s.internal(w, err)
		return
	}
	projects := make([]map[string]any, 0, len(names))
	for _, n := range names {
		projects = append(projects, s.projectView(n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": projects, keyLinks: s.collectionLinks(r)})
}

// getCatalog is GET /v3/auth/catalog: the catalog of the caller's project-scoped token.
func (s *Service) getCatalog(w http.ResponseWriter, r *http.Request) {
	_, callerToken, ok := s.caller(r)
	if !ok {
		s.writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}
	if callerToken == nil || callerToken.Project == "" {
		s.writeError(w, http.StatusForbidden, msgUnscopedCatalog)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"catalog": s.catalog(callerToken.Project), keyLinks: s.collectionLinks(r)})
}

func (s *Service) internal(w http.ResponseWriter, err error) {
	klog.ErrorS(err, "Failed to serve an identity request")
	s.writeError(w, http.StatusInternalServerError, msgInternal)
}

// clientAddr is the client's IP address, the key of the per-address throttle.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
