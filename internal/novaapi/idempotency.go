package novaapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A create (POST /servers, both ways in, and FlexCloud's) may carry an Idempotency-Key
// header (draft-ietf-httpapi-idempotency-key-header), so that a client that lost the answer
// can send the same request again and get the first one's server instead of a second one.
//
// What makes it race-free is the API server's unique names: the Server a keyed create makes
// is named after a hash of the user and the key (and, for max_count > 1, its launch index),
// so of two creates with one key only one can make it; the other gets AlreadyExists and
// answers with the server the first made. The key is remembered as long as that server
// exists. The request's fingerprint (its body and microversion) is kept on the server: the
// same key with another request is a 409, as the key is the client's promise that the
// requests are one.
//
// X-OpenStack-Request-ID is not a key: clients send one global request id for every call of
// an operation.
const (
	headerIdempotencyKey = "Idempotency-Key"
	// annIdempotency holds the fingerprint of the keyed request that made a server.
	annIdempotency = annPrefix + "idempotency"
	// maxIdempotencyKey bounds a key, as the draft leaves it to the server.
	maxIdempotencyKey = 255
)

// idempotentCreate is a keyed create: the name of its first server and its fingerprint.
type idempotentCreate struct {
	name        string
	fingerprint string
}

// serverName is the name of the server of launch index i.
func (ic *idempotentCreate) serverName(i int) string {
	if i == 0 {
		return ic.name
	}
	return ic.name + "-" + strconv.Itoa(i)
}

// idempotency reads the request's Idempotency-Key: nil when there is none. kind tells the
// request forms apart ("compute", "flexcloud"), whose bodies mean different things.
func (rq *request) idempotency(kind string) (*idempotentCreate, error) {
	values := rq.r.Header.Values(headerIdempotencyKey)
	if len(values) == 0 {
		return nil, nil
	}
	// The draft's key is a structured-field string ("..."); a bare token is taken as it is.
	key := values[0]
	if unq, err := strconv.Unquote(key); err == nil && strings.HasPrefix(key, `"`) {
		key = unq
	}
	if len(values) > 1 || key == "" || len(key) > maxIdempotencyKey || !printableASCII(key) {
		return nil, badRequest("Invalid Idempotency-Key header: give one key of 1 to %d printable ASCII characters.", maxIdempotencyKey)
	}
	who := sha256.Sum256([]byte(rq.userName() + "\x00" + key))
	what := sha256.New()
	what.Write([]byte(kind + "\x00" + rq.version.String() + "\x00"))
	what.Write(canonicalJSON(rq.body))
	return &idempotentCreate{
		name:        "srv-" + hex.EncodeToString(who[:10]),
		fingerprint: hex.EncodeToString(what.Sum(nil)),
	}, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// canonicalJSON is a valid body with its keys sorted and its white space gone, so the
// same request serialised again (another key order, other spacing) has one fingerprint.
// The password a client chose is left out: the fingerprint is kept on the Server, where
// anyone who may read the server could test guesses against an unsalted hash of it.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	if top, ok := v.(map[string]any); ok {
		if srv, ok := top["server"].(map[string]any); ok {
			delete(srv, "adminPass")
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// previousCreate is the first server an earlier create with the same key made, or nil when
// there is none. It reads past the cache: the retry may come at once, or to another replica.
func (h *handler) previousCreate(ctx context.Context, tenant string, ic *idempotentCreate) (*computev1.Server, error) {
	if ic == nil {
		return nil, nil
	}
	srv := &computev1.Server{}
	if err := h.client.Get(ctx, client.ObjectKey{Namespace: tenant, Name: ic.name}, srv); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	if srv.Annotations[annIdempotency] != ic.fingerprint {
		return nil, conflict("This Idempotency-Key was already used for another request; use a new key for a new request.")
	}
	if srv.DeletionTimestamp != nil {
		return nil, conflict("The server a request with this Idempotency-Key created is being deleted; use a new key for a new request.")
	}
	return srv, nil
}
