package novaapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaapi/schemas"
	"github.com/kova-dev/kova/internal/novaapi/views"
)

// POST /servers: the body, the answer, and the servers written (one, or max_count of
// them, all or nothing). What a create asks for is checked and resolved in server_plan.go.

// serverCreate is POST /servers's body, read once it is valid.
type serverCreate struct {
	Server   serverCreateAttrs `json:"server"`
	Hints    map[string]any    `json:"os:scheduler_hints"`
	HintsOld map[string]any    `json:"OS-SCH-HNT:scheduler_hints"`
}

// serverCreateAttrs is the "server" of POST /servers's body.
type serverCreateAttrs struct {
	Name                 string            `json:"name"`
	ImageRef             *string           `json:"imageRef"`
	FlavorRef            any               `json:"flavorRef"`
	AdminPass            *string           `json:"adminPass"`
	Metadata             map[string]string `json:"metadata"`
	Networks             json.RawMessage   `json:"networks"`
	DiskConfig           string            `json:"OS-DCF:diskConfig"`
	AccessIPv4           string            `json:"accessIPv4"`
	AccessIPv6           string            `json:"accessIPv6"`
	Personality          []json.RawMessage `json:"personality"`
	AvailabilityZone     *string           `json:"availability_zone"`
	BlockDeviceMapping   []json.RawMessage `json:"block_device_mapping"`
	BlockDeviceMappingV2 []json.RawMessage `json:"block_device_mapping_v2"`
	ConfigDrive          any               `json:"config_drive"`
	KeyName              *string           `json:"key_name"`
	MinCount             json.RawMessage   `json:"min_count"`
	MaxCount             json.RawMessage   `json:"max_count"`
	ReturnReservationID  any               `json:"return_reservation_id"`
	SecurityGroups       []struct {
		Name string `json:"name"`
	} `json:"security_groups"`
	UserData                 *string   `json:"user_data"`
	Description              *string   `json:"description"`
	Tags                     []string  `json:"tags"`
	TrustedImageCertificates *[]string `json:"trusted_image_certificates"`
	Host                     string    `json:"host"`
	HypervisorHostname       string    `json:"hypervisor_hostname"`
}

func (h *handler) createServer(rq *request) error {
	if _, err := rq.validBody(schemas.ServerCreate(rq.version)); err != nil {
		return err
	}
	var body serverCreate
	if err := json.Unmarshal(rq.body, &body); err != nil {
		return badRequest(msgMalformed)
	}
	ic, err := rq.idempotency("compute")
	if err != nil {
		return err
	}
	// A retry is answered before anything is planned: the quota already counts its servers.
	first, err := h.previousCreate(rq.ctx, rq.caller.Tenant, ic)
	if err != nil {
		return err
	}
	replayed := first != nil
	var plan *serverPlan
	if !replayed {
		if plan, err = h.planServer(rq, &body); err != nil {
			return err
		}
		plan.idempotent = ic
		if first, replayed, err = h.createServers(rq, plan); err != nil {
			return err
		}
	}
	if truthy(body.Server.ReturnReservationID) {
		return rq.json(http.StatusAccepted, map[string]any{"reservation_id": first.Annotations[annReservationID]})
	}
	id := string(first.UID)
	sgs := []views.SecurityGroup{{Name: "default"}}
	if body.Server.SecurityGroups != nil {
		sgs = []views.SecurityGroup{}
		for _, sg := range body.Server.SecurityGroups {
			sgs = append(sgs, views.SecurityGroup{Name: sg.Name})
		}
	}
	links := rq.links("servers", id)
	rq.w.Header().Set("Location", links[0].Href)
	out := views.ServerCreated{ID: id, Links: links, DiskConfig: orDefault(body.Server.DiskConfig, "MANUAL"), SecurityGroups: sgs}
	// A generated password is not kept anywhere, so the answer to a retry can only repeat
	// one the client gave; without it, it has no adminPass, as Nova's answer when
	// enable_instance_password is off.
	switch {
	case !replayed:
		out.AdminPass = views.Some(plan.password)
	case body.Server.AdminPass != nil:
		out.AdminPass = views.Some(*body.Server.AdminPass)
	}
	return rq.json(http.StatusAccepted, map[string]any{"server": out})
}

// createServers writes the planned servers: one, or max_count of them named as Nova names
// them ("name-1", "name-2", ...), and returns the first. It is all or nothing: when one
// cannot be made, those made before it are deleted and the error is returned. When a keyed
// create finds its first server made by an earlier create with the same key, it makes
// nothing and returns that server, with replayed set.
func (h *handler) createServers(rq *request, plan *serverPlan) (first *computev1.Server, replayed bool, err error) {
	var made []*computev1.Server
	for i := 0; i < plan.count; i++ {
		srv := &computev1.Server{
			ObjectMeta: metav1.ObjectMeta{Namespace: rq.caller.Tenant, Annotations: map[string]string{}},
			Spec:       *plan.spec.DeepCopy(),
		}
		for k, v := range plan.annotations {
			srv.Annotations[k] = v
		}
		if plan.count > 1 {
			srv.Spec.Name = fmt.Sprintf("%s-%d", plan.spec.Name, i+1)
			srv.Annotations[annLaunchIndex] = strconv.Itoa(i)
		}
		if plan.describe {
			name := srv.Spec.Name
			srv.Spec.Description = &name
		}
		srv.Annotations[annRequestID] = rq.id
		if ic := plan.idempotent; ic != nil {
			srv.Name = ic.serverName(i)
			srv.Annotations[annIdempotency] = ic.fingerprint
			err = h.writer(rq.ctx).Create(rq.ctx, srv)
			if i == 0 && apierrors.IsAlreadyExists(err) {
				// A create with the same key got there first: its servers are this one's.
				prev, perr := h.previousCreate(rq.ctx, rq.caller.Tenant, ic)
				if perr == nil && prev == nil {
					perr = conflict("A request with this Idempotency-Key is being undone; use a new key for a new request.")
				}
				return prev, perr == nil, perr
			}
		} else {
			err = h.createNamed(rq.ctx, srv, "srv-")
		}
		if err != nil {
			h.undoCreate(rq.ctx, made)
			return nil, false, err
		}
		made = append(made, srv)
	}
	return made[0], false, nil
}

// undoCreate deletes the servers of a create that failed part of the way. It deletes as
// the shim (creators may not delete) and finishes even if the client has gone.
func (h *handler) undoCreate(ctx context.Context, made []*computev1.Server) {
	ctx = context.WithoutCancel(ctx)
	for _, srv := range made {
		if err := deleteExact(ctx, h.client, srv, ""); err != nil && !apierrors.IsNotFound(err) {
			log.FromContext(ctx).Error(err, "Failed to delete a server of a create that failed", "server", srv.Name)
		}
	}
}

// createNamed creates obj under a fresh random name with the given prefix, trying again
// in the unlikely case the name is taken.
func (h *handler) createNamed(ctx context.Context, obj client.Object, prefix string) error {
	for attempt := 0; ; attempt++ {
		obj.SetName(prefix + randomString(10))
		err := h.writer(ctx).Create(ctx, obj)
		if apierrors.IsAlreadyExists(err) && attempt < 3 {
			continue
		}
		return err
	}
}

// Nova's generate_password draws from these groups, one character of each first.
var passwordGroups = []string{"23456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz"}

func generatePassword() string {
	all := strings.Join(passwordGroups, "")
	b := make([]byte, 0, passwordLength)
	for _, g := range passwordGroups {
		b = append(b, g[randInt(len(g))])
	}
	for len(b) < passwordLength {
		b = append(b, all[randInt(len(all))])
	}
	for i := len(b) - 1; i > 0; i-- {
		j := randInt(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(v.Int64())
}

const nameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString is a lower-case alphanumeric string for object names.
func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = nameAlphabet[randInt(len(nameAlphabet))]
	}
	return string(b)
}
