package novaapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"hash/fnv"
	"math/big"
	"net/http"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/novaapi/views"
	"github.com/kova-dev/kova/internal/rules"
)

// /os-keypairs. Nova keypairs belong to a user: each caller sees and uses only their own
// (spec.userID), and two users of a tenant may each have a keypair of the same name. The
// Nova name is spec.name; a Keypair made here is named after its user and Nova name
// (keypairObjectName), so two creates of one user's name race to one object name and the
// API server lets only one win. (Keypairs made with kubectl carry any object name; the
// admission webhook refuses a second one of a user's name.) A generated private key is
// handed back once and kept nowhere: the Keypair gets only the public key.

// keypairObjectName is the Keypair that a user's keypair made through this API is: the
// Nova name (when it makes a valid object name) and a hash of user and name, so that one
// user's keypair of a name has one object name and another user's another.
func keypairObjectName(user, novaName string) string {
	sum := sha256.Sum256([]byte(user + "\x00" + novaName))
	digest := hex.EncodeToString(sum[:])
	if name := novaName + "-" + digest[:10]; len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name
	}
	return "kp-" + digest[:16]
}

// keypair finds a user's keypair by Nova name; nil when there is none. The one made here
// is read by its object name; one made with kubectl is found among the tenant's keypairs.
// Both past the cache, so a keypair made or deleted a moment ago, through any replica, is
// seen as it is (consistency.go).
func (h *handler) keypair(ctx context.Context, ns, user, name string) (*computev1.Keypair, error) {
	key := client.ObjectKey{Namespace: ns, Name: keypairObjectName(user, name)}
	kp := &computev1.Keypair{}
	err := h.live.Get(ctx, key, kp) // past the cache: read-your-writes (consistency.go)
	switch {
	case err == nil && kp.NovaName() == name && kp.Spec.UserID == user && kp.DeletionTimestamp.IsZero():
		return kp, nil
	case err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err):
		return nil, err
	}
	var list computev1.KeypairList
	if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil { // past the cache (consistency.go)
		return nil, err
	}
	return rules.UserKeypair(list.Items, user, name), nil
}

// keypairUser is whose keypairs a request is about: the caller, or (2.10+, admins only)
// the user_id asked for.
func (rq *request) keypairUser(asked, rule string) (string, error) {
	user := rq.userName()
	if asked == "" || asked == user {
		return user, nil
	}
	admin, err := rq.isAdmin()
	if err != nil {
		return "", err
	}
	if !admin {
		return "", policyForbidden(rule)
	}
	return asked, nil
}

func keypairPublicKey(kp *computev1.Keypair) string {
	if kp.Spec.PublicKey != "" {
		return kp.Spec.PublicKey
	}
	return kp.Status.PublicKey
}

func keypairType(kp *computev1.Keypair) string { return orDefault(kp.Spec.Type, keys.TypeSSH) }

func keypairFingerprint(kp *computev1.Keypair) string {
	if kp.Status.Fingerprint != "" {
		return kp.Status.Fingerprint
	}
	fp, _ := keys.Fingerprint(keypairType(kp), keypairPublicKey(kp))
	return fp
}

// keypairID stands in for Nova's database id: a number that stays the same.
func keypairID(kp *computev1.Keypair) int {
	f := fnv.New32a()
	_, _ = f.Write([]byte(kp.UID))
	return int(f.Sum32() & 0x7fffffff)
}

// keypairView is Nova's keypair (views/keypair.go); full is GET /os-keypairs/{name}'s.
func (rq *request) keypairView(kp *computev1.Keypair, full bool) *views.Keypair {
	return views.NewKeypair(views.KeypairInput{
		Keypair: kp, Name: kp.NovaName(), PublicKey: keypairPublicKey(kp),
		Fingerprint: keypairFingerprint(kp), Type: keypairType(kp), ID: keypairID(kp), Full: full,
	}, rq.version)
}

func (h *handler) listKeypairs(rq *request) error {
	if err := validateQuery(schemas.KeypairQuery(rq.version, true), rq.r); err != nil {
		return err
	}
	q := queryObject(rq.r)
	asked := ""
	if rq.version.AtLeast(10) {
		asked = firstValue(q, "user_id")
	}
	user, err := rq.keypairUser(asked, "os_compute_api:os-keypairs:index")
	if err != nil {
		return err
	}
	var list computev1.KeypairList
	if err := h.live.List(rq.ctx, &list, client.InNamespace(rq.caller.Tenant)); err != nil { // past the cache (consistency.go)
		return err
	}
	kps := rules.UserKeypairs(list.Items, user)
	sort.Slice(kps, func(i, j int) bool { return kps[i].NovaName() < kps[j].NovaName() })
	limit := len(kps)
	paged := rq.version.AtLeast(35)
	if paged {
		if kps, limit, err = page(q, kps, (*computev1.Keypair).NovaName, markerMissing); err != nil {
			return err
		}
	}
	out := make([]any, 0, len(kps))
	for _, kp := range kps {
		out = append(out, map[string]any{"keypair": rq.keypairView(kp, false)})
	}
	body := map[string]any{"keypairs": out}
	if paged && len(kps) > 0 {
		body = rq.listBody("keypairs", "os-keypairs", false, out, limit, lastID(kps, (*computev1.Keypair).NovaName))
	}
	return rq.json(http.StatusOK, body)
}

func firstValue(q *js.Object, k string) string {
	vals := allValues(q, k)
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// requestedKeypair finds the keypair a show or delete names, for the caller or (2.10+,
// admins) the user_id asked for.
func (h *handler) requestedKeypair(rq *request, rule string) (*computev1.Keypair, error) {
	if err := validateQuery(schemas.KeypairQuery(rq.version, false), rq.r); err != nil {
		return nil, err
	}
	asked := ""
	if rq.version.AtLeast(10) {
		asked = firstValue(queryObject(rq.r), "user_id")
	}
	user, err := rq.keypairUser(asked, rule)
	if err != nil {
		return nil, err
	}
	name := rq.param(0)
	kp, err := h.keypair(rq.ctx, rq.caller.Tenant, user, name)
	if err != nil {
		return nil, err
	}
	if kp == nil {
		return nil, notFound("Keypair %s not found for user %s", name, user)
	}
	return kp, nil
}

func (h *handler) showKeypair(rq *request) error {
	kp, err := h.requestedKeypair(rq, "os_compute_api:os-keypairs:show")
	if err != nil {
		return err
	}
	return rq.json(http.StatusOK, map[string]any{"keypair": rq.keypairView(kp, true)})
}

// deleteKeypair answers 202 at 2.1, 204 from 2.2.
func (h *handler) deleteKeypair(rq *request) error {
	kp, err := h.requestedKeypair(rq, "os_compute_api:os-keypairs:delete")
	if err != nil {
		return err
	}
	if err := deleteExact(rq.ctx, h.writer(rq.ctx), kp, ""); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if !rq.version.AtLeast(2) {
		return rq.json(http.StatusAccepted, nil)
	}
	return rq.json(http.StatusNoContent, nil)
}

func (h *handler) createKeypair(rq *request) error {
	if _, err := rq.validBody(schemas.KeypairCreate(rq.version)); err != nil {
		return err
	}
	var body struct {
		Keypair struct {
			Name      string  `json:"name"`
			Type      string  `json:"type"`
			PublicKey *string `json:"public_key"`
			UserID    string  `json:"user_id"`
		} `json:"keypair"`
	}
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	in := body.Keypair
	user, err := rq.keypairUser(in.UserID, "os_compute_api:os-keypairs:create")
	if err != nil {
		return err
	}
	typ := orDefault(in.Type, keys.TypeSSH)
	var publicKey, privateKey, fingerprint string
	if in.PublicKey != nil {
		publicKey = *in.PublicKey
		if fingerprint, err = keys.Fingerprint(typ, publicKey); err != nil {
			return badRequest("%s", err.Error())
		}
	} else {
		if publicKey, privateKey, fingerprint, err = generateKey(typ, user); err != nil {
			return err
		}
	}
	// A keypair of this name made with kubectl has another object name: look first. Two
	// creates here race to one object name, and a kubectl create racing this one is refused
	// by the admission webhook (or, past it, loses to the older: rules.UserKeypairs).
	if existing, err := h.keypair(rq.ctx, rq.caller.Tenant, user, in.Name); err != nil {
		return err
	} else if existing != nil {
		return conflict("Key pair '%s' already exists.", in.Name)
	}
	kp := &computev1.Keypair{
		ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, Name: keypairObjectName(user, in.Name)},
		Spec:       computev1.KeypairSpec{Name: in.Name, PublicKey: publicKey, Type: typ, UserID: user},
	}
	if err := h.writer(rq.ctx).Create(rq.ctx, kp); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return conflict("Key pair '%s' already exists.", in.Name)
		}
		return err
	}
	v := &views.Keypair{Name: in.Name, PublicKey: publicKey, Fingerprint: fingerprint, UserID: views.Some(user), PrivateKey: privateKey}
	code := http.StatusOK
	if rq.version.AtLeast(2) {
		v.Type = typ
		code = http.StatusCreated
	}
	return rq.json(code, map[string]any{"keypair": v})
}

// generateKey makes a key pair as Nova does: RSA 2048, OpenSSH public key for ssh, a
// self-signed certificate (CN = the user) for x509.
func generateKey(typ, user string) (public, private, fingerprint string, err error) {
	if typ != keys.TypeX509 {
		g, err := keys.Generate("Generated-by-Nova")
		if err != nil {
			return "", "", "", err
		}
		return strings.TrimSpace(g.PublicKey), g.PrivateKey, g.Fingerprint, nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", "", err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return "", "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: user},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(10, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", err
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	fp, err := keys.Fingerprint(keys.TypeX509, cert)
	if err != nil {
		return "", "", "", err
	}
	return cert, priv, fp, nil
}
