package compute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

// SimulatedConfig configures the simulated driver.
type SimulatedConfig struct {
	// StateDir is where state is persisted, one JSON file per instance;
	// "" keeps state in memory only (tests).
	StateDir string
	// StepLatency is the time per op step. 0 = every op completes at once
	// (Start returns it already Done, or Failed). Each op records the
	// latency it started with, so a restart with a different value only
	// affects new ops.
	StepLatency time.Duration
	// Hosts are the hosts to place on; only Name and Capacity are read.
	// Default if empty: DefaultHosts().
	Hosts []HostInfo
	// AllocationRatios overcommit every host as Nova's placement does; zero ratios are
	// Nova's defaults (cpu 4.0, ram 1.0, disk 1.0).
	AllocationRatios AllocationRatios
	// Now is an injectable clock for tests; nil = time.Now.
	Now func() time.Time
	// Standby reads nothing from StateDir until Load: the driver of a manager that is not
	// (yet) the leader, whose state directory the leader is writing. Until Load, every
	// call waits for it (or for its context), so a standby neither acts on stale state
	// nor writes.
	Standby bool
	// SpawnLog, if set, is a file where every spawn that begins on a host is appended as
	// one JSON line (see SpawnLogEntry), never rewritten: an audit that survives both a
	// restart and a stale writer, so a test can count spawns per instance.
	SpawnLog string
}

// Simulated is the default Driver: it places instances on simulated hosts and
// advances operations by the wall clock. It is safe for concurrent use.
//
// An op's allocation changes happen at Start (placement for spawn, unshelve
// and resize is reserved there, so concurrent spawns cannot oversubscribe)
// and when it finishes (shelve_offload, confirm and revert free, a failure
// releases what the op added). Every change is persisted before the call
// returns, so a new process built on the same StateDir continues exactly
// where the old one stopped; progress is computed from the op's StartedAt
// and step latency, both stored.
type Simulated struct {
	latency time.Duration
	now     func() time.Time
	dir     string // "" = in memory
	// configured are the hosts of the config, in order (Load starts again from them).
	configured []HostInfo
	ratios     AllocationRatios // with Nova's defaults filled in
	spawnLog   string
	loaded     chan struct{} // closed once the state is loaded (see Load)
	loadOnce   sync.Once

	mu     sync.Mutex
	hosts  []*hostState          // configured order, then unknown hosts found in state
	byName map[string]*hostState // every host in hosts
	insts  map[string]*entry
	active map[string]*entry // instances whose op is still running
	seq    uint64            // version counter for persisted changes
	slots  map[string]*fileSlot
	notify func(id string) // see Notify
}

var _ Driver = (*Simulated)(nil)

type hostState struct {
	name       string
	capacity   Resources
	limit      Resources // capacity times the allocation ratios: the room flavors get
	used       Resources
	configured bool // false for hosts only found in persisted state: never placed on
}

type entry struct {
	rec   record
	ver   uint64 // version of the last change (persistence only)
	saved uint64 // last version known to be on disk
}

// record is the persisted form of an instance (one JSON file).
type record struct {
	Schema    int                  `json:"schema"`
	ID        string               `json:"id"`
	Host      string               `json:"host,omitempty"`
	Power     lifecycle.PowerState `json:"power"`
	Flavor    Resources            `json:"flavor"`
	OldFlavor *Resources           `json:"oldFlavor,omitempty"`
	OldHost   string               `json:"oldHost,omitempty"`
	// ResizePower is the power the instance had when its pending resize
	// began; resize, confirm and revert leave the instance in it.
	ResizePower *lifecycle.PowerState `json:"resizePower,omitempty"`
	Image       string                `json:"image,omitempty"`
	// Devices are the attached interfaces and volumes, sorted.
	Devices []string `json:"devices,omitempty"`
	// Group is the server group the instance was booted into, kept for placing the
	// members that come after it (and its own unshelve and resize).
	Group *Group    `json:"group,omitempty"`
	Op    *opRecord `json:"op,omitempty"`
}

type opRecord struct {
	Kind        OpKind        `json:"kind"`
	Token       string        `json:"token"`
	Steps       int           `json:"steps"`
	Step        int           `json:"step"`
	FailStep    int           `json:"failStep,omitempty"`
	FailMessage string        `json:"failMessage,omitempty"`
	Image       string        `json:"image,omitempty"`
	Device      string        `json:"device,omitempty"`
	EndOff      bool          `json:"endOff,omitempty"`
	StepLatency time.Duration `json:"stepLatency"`
	StartedAt   time.Time     `json:"startedAt"`
	Done        bool          `json:"done,omitempty"`
	Failed      bool          `json:"failed,omitempty"`
	Fault       *Fault        `json:"fault,omitempty"`
	// Placed: this op reserved the instance's current (Host, Flavor)
	// allocation, which is released if the op fails.
	Placed bool `json:"placed,omitempty"`
}

func (o *opRecord) finished() bool { return o.Done || o.Failed }

const schemaVersion = 1

// NewSimulated builds a simulated driver, loading any state found in
// cfg.StateDir (which is created if missing) and recomputing host usage from
// it; with cfg.Standby, not before Load.
func NewSimulated(cfg SimulatedConfig) (*Simulated, error) {
	if cfg.StepLatency < 0 {
		return nil, fmt.Errorf("compute: negative step latency %v", cfg.StepLatency)
	}
	hosts := cfg.Hosts
	if len(hosts) == 0 {
		hosts = DefaultHosts()
	}
	if err := cfg.AllocationRatios.validate(); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, h := range hosts {
		if err := validHostName(h.Name); err != nil {
			return nil, fmt.Errorf("compute: host config: %v", err)
		}
		if names[h.Name] {
			return nil, fmt.Errorf("compute: host config: duplicate host %q", h.Name)
		}
		names[h.Name] = true
		if h.Capacity.VCPUs < 0 || h.Capacity.RAMMiB < 0 || h.Capacity.DiskGiB < 0 {
			return nil, fmt.Errorf("compute: host config: host %q has negative capacity %+v", h.Name, h.Capacity)
		}
	}
	s := &Simulated{
		latency:    cfg.StepLatency,
		now:        cfg.Now,
		dir:        cfg.StateDir,
		configured: hosts,
		ratios:     cfg.AllocationRatios.orDefaults(),
		spawnLog:   cfg.SpawnLog,
		slots:      map[string]*fileSlot{},
		loaded:     make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.reset()
	if !cfg.Standby {
		if err := s.Load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// reset forgets every instance, leaving the configured hosts empty. Called with s.mu held
// or before s is shared.
func (s *Simulated) reset() {
	s.hosts, s.byName = nil, map[string]*hostState{}
	s.insts, s.active = map[string]*entry{}, map[string]*entry{}
	for _, h := range s.configured {
		hs := &hostState{name: h.Name, capacity: h.Capacity, limit: s.ratios.Limit(h.Capacity), configured: true}
		s.hosts = append(s.hosts, hs)
		s.byName[h.Name] = hs
	}
}

// Load reads the state directory, replacing whatever the driver knew, and recomputes the
// hosts' usage from it; then calls that waited for it go on. A driver built with Standby
// calls it when its manager is elected leader: the state the old leader left on disk is
// the truth from then on. Call it before the driver is used, not while operations run.
func (s *Simulated) Load() error {
	var recs []record
	if s.dir != "" {
		var err error
		if recs, err = loadState(s.dir); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.reset()
	for _, r := range recs {
		e := &entry{rec: r}
		s.insts[r.ID] = e
		s.holdAll(&e.rec)
		if e.rec.Op != nil && !e.rec.Op.finished() {
			s.active[r.ID] = e
		}
	}
	s.mu.Unlock()
	s.loadOnce.Do(func() { close(s.loaded) })
	return nil
}

// ready waits until the state is loaded (at once unless the driver was built Standby).
func (s *Simulated) ready(ctx context.Context) error {
	select {
	case <-s.loaded:
		return nil
	default:
	}
	select {
	case <-s.loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clock returns the current time without monotonic reading, in UTC, so that
// it survives a JSON round trip unchanged.
func (s *Simulated) clock() time.Time { return s.now().Round(0).UTC() }

// Start implements Driver.
func (s *Simulated) Start(ctx context.Context, id string, req OpRequest) (Instance, error) {
	if err := s.ready(ctx); err != nil {
		return Instance{}, err
	}
	if err := ctx.Err(); err != nil {
		return Instance{}, err
	}
	if id == "" {
		return Instance{}, errors.New("compute: empty instance id")
	}
	if !req.Kind.Valid() {
		return Instance{}, fmt.Errorf("compute: unknown operation kind %q", req.Kind)
	}
	s.mu.Lock()
	now := s.clock()
	ws := s.advanceActive(now, nil)
	e := s.insts[id]
	isNew := false
	switch {
	case e == nil && req.Kind != OpSpawn:
		s.mu.Unlock()
		return Instance{}, withFlush(ErrNotFound, s.flush(ws))
	case e == nil:
		e = &entry{rec: record{Schema: schemaVersion, ID: id, Power: lifecycle.PowerNoState}}
		isNew = true
	case e.rec.Op != nil && e.rec.Op.Token == req.Token:
		// Same request again (e.g. after a controller restart): no-op.
		if e.ver > e.saved {
			ws = s.schedule(ws, id, e) // retry a failed write
		}
		inst := e.view(now)
		s.mu.Unlock()
		return inst, s.flush(ws)
	case e.rec.Op != nil && !e.rec.Op.finished():
		s.mu.Unlock()
		return Instance{}, withFlush(ErrBusy, s.flush(ws))
	}
	if isNew {
		s.insts[id] = e
	}
	s.begin(e, req, now, isNew)
	if !e.rec.Op.finished() {
		s.active[id] = e
		s.advance(e, now)
	}
	ws = s.schedule(ws, id, e)
	inst := e.view(now)
	s.mu.Unlock()
	err := s.flush(ws)
	if req.Kind == OpSpawn {
		err = errors.Join(err, s.logSpawn(SpawnLogEntry{ID: id, Token: req.Token, Host: inst.Host, At: now}))
	}
	return inst, err
}

// withFlush returns err itself (so that == works) unless persisting failed
// too.
func withFlush(err, flushErr error) error {
	if flushErr != nil {
		return errors.Join(err, flushErr)
	}
	return err
}

// Get implements Driver.
func (s *Simulated) Get(ctx context.Context, id string) (Instance, error) {
	if err := s.ready(ctx); err != nil {
		return Instance{}, err
	}
	if err := ctx.Err(); err != nil {
		return Instance{}, err
	}
	s.mu.Lock()
	e := s.insts[id]
	if e == nil {
		s.mu.Unlock()
		return Instance{}, ErrNotFound
	}
	now := s.clock()
	var ws []pendingWrite
	if s.advance(e, now) || e.ver > e.saved {
		ws = s.schedule(ws, id, e)
	}
	inst := e.view(now)
	s.mu.Unlock()
	return inst, s.flush(ws)
}

// Destroy implements Driver.
func (s *Simulated) Destroy(ctx context.Context, id string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if e := s.insts[id]; e != nil {
		s.releaseAll(&e.rec)
		delete(s.insts, id)
		delete(s.active, id)
	}
	// Always remove the file, even for an id unknown in memory, so that a
	// retried Destroy cleans up after a removal that failed.
	ws := s.schedule(nil, id, nil)
	s.mu.Unlock()
	return s.flush(ws)
}

// List implements Driver.
func (s *Simulated) List(ctx context.Context) ([]string, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.insts))
	for id := range s.insts {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	sort.Strings(ids)
	return ids, nil
}

// Hosts implements Driver. Configured hosts come first, in configured order,
// followed by any host that only persisted state mentions (with zero
// capacity; nothing new is placed there).
func (s *Simulated) Hosts(ctx context.Context) ([]HostInfo, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	ws := s.advanceActive(s.clock(), nil)
	counts := map[string]int{}
	for _, e := range s.insts {
		r := &e.rec
		if r.Host != "" {
			counts[r.Host]++
		}
		if r.OldFlavor != nil && r.OldHost != "" && r.OldHost != r.Host {
			counts[r.OldHost]++
		}
	}
	out := make([]HostInfo, len(s.hosts))
	for i, h := range s.hosts {
		out[i] = HostInfo{Name: h.name, Capacity: h.capacity, Used: h.used, Instances: counts[h.name]}
	}
	s.mu.Unlock()
	return out, s.flush(ws)
}

// advanceActive advances every running op (so that capacity freed by ops
// that finished meanwhile is visible), appending the writes it causes.
// Called with s.mu held.
func (s *Simulated) advanceActive(now time.Time, ws []pendingWrite) []pendingWrite {
	for id, e := range s.active {
		if s.advance(e, now) {
			ws = s.schedule(ws, id, e)
		}
	}
	return ws
}

// begin replaces e's op with a new one for req, doing its Start-time
// placement. The op may end Failed at once (no valid host, or an op the
// instance's state does not allow). Called with s.mu held.
func (s *Simulated) begin(e *entry, req OpRequest, now time.Time, isNew bool) {
	steps := max(req.Steps, 1)
	failStep := min(max(req.FailStep, 0), steps)
	msg := req.FailMessage
	if msg == "" && failStep > 0 { // kept with the instance: only for an op that fails
		msg = fmt.Sprintf("Simulated failure in %s", req.Kind)
	}
	op := &opRecord{
		Kind:        req.Kind,
		Token:       req.Token,
		Steps:       steps,
		FailStep:    failStep,
		FailMessage: msg,
		Image:       req.Image,
		Device:      req.Device,
		EndOff:      req.EndOff && req.Kind == OpRebuild,
		StepLatency: s.latency,
		StartedAt:   now,
	}
	r := &e.rec
	r.Op = op
	fail := func(code int32, message, details string) {
		op.Failed = true
		op.Fault = &Fault{Code: code, Message: message, Details: details, Created: now}
	}
	notPlaced := func() {
		fail(409, fmt.Sprintf("Cannot '%s' instance %s while it is not on a host", req.Kind, r.ID),
			"the instance is shelved-offloaded or was never placed")
	}
	switch req.Kind {
	case OpSpawn, OpUnshelve:
		if req.Kind == OpSpawn && req.Image != "" {
			r.Image = req.Image
		}
		if req.Kind == OpSpawn {
			r.Group = req.Group // Nova's membership is set at boot and never changes
		}
		if r.Host != "" {
			// Already placed (a spawn re-issued with a new token, or an
			// unshelve of a shelved but not offloaded instance): keep it.
			return
		}
		flavor := req.Flavor
		if flavor == (Resources{}) && !isNew {
			flavor = r.Flavor
		}
		r.Flavor = flavor
		var host *hostState
		if req.Kind == OpSpawn && (req.Host != "" || req.Node != "") {
			var fault *Fault
			if host, fault = s.forced(req.Host, req.Node, flavor); fault != nil {
				fail(fault.Code, fault.Message, fault.Details)
				return
			}
		} else if host = s.placeIn(flavor, r.Group, r.ID); host == nil {
			fail(500, NoValidHostMessage, noValidHostInGroup(flavor, r.Group, len(s.hosts)))
			return
		}
		s.hold(host.name, flavor)
		r.Host = host.name
		op.Placed = true
	case OpResize:
		if r.Host == "" {
			notPlaced()
			return
		}
		if r.OldFlavor != nil {
			fail(409, fmt.Sprintf("Cannot 'resize' instance %s while a resize awaits confirmation", r.ID),
				"confirm or revert the pending resize first")
			return
		}
		flavor := req.Flavor
		host := s.byName[r.Host]
		// The same host if the new flavor fits beside the old allocation
		// (both are held until confirm/revert), else the best other host.
		if host == nil || !host.configured || !host.free().Fits(flavor) {
			host = s.placeIn(flavor, r.Group, r.ID)
		}
		if host == nil {
			fail(500, NoValidHostMessage, noValidHostInGroup(flavor, r.Group, len(s.hosts)))
			return
		}
		old, power := r.Flavor, r.Power
		r.OldFlavor, r.OldHost, r.ResizePower = &old, r.Host, &power
		s.hold(host.name, flavor)
		r.Host, r.Flavor = host.name, flavor
		op.Placed = true
	case OpConfirmResize, OpRevertResize, OpShelve, OpShelveOffload, OpSnapshot:
		// Allowed whatever the placement; confirm/revert without a pending
		// resize are no-ops.
	case OpAttachVolume, OpDetachVolume:
		// A shelved-offloaded instance has no host, and Nova still attaches a
		// volume to it (the mapping waits for the unshelve).
		if req.Device == "" {
			fail(400, fmt.Sprintf("No device given to %s", req.Kind), "")
		}
	case OpAttachInterface, OpDetachInterface:
		switch {
		case req.Device == "":
			fail(400, fmt.Sprintf("No device given to %s", req.Kind), "")
		case r.Host == "":
			notPlaced()
		}
	default:
		if r.Host == "" {
			notPlaced()
		}
	}
}

func noValidHostDetails(f Resources, hosts int) string {
	return fmt.Sprintf("No host among %d has room for vcpus=%d, ram=%dMiB, disk=%dGiB", hosts, f.VCPUs, f.RAMMiB, f.DiskGiB)
}

// advance moves e's running op forward to now, applying its result when it
// finishes. It reports whether anything changed. Called with s.mu held.
func (s *Simulated) advance(e *entry, now time.Time) bool {
	op := e.rec.Op
	if op == nil || op.finished() {
		return false
	}
	k := op.Steps // steps whose completion time has passed
	if op.StepLatency > 0 {
		switch el := now.Sub(op.StartedAt); {
		case el < 0:
			k = 0
		case int64(el/op.StepLatency) < int64(op.Steps):
			k = int(el / op.StepLatency)
		}
	}
	switch {
	case op.FailStep > 0 && k >= op.FailStep:
		op.Step = op.FailStep - 1
		op.Failed = true
		op.Fault = &Fault{
			Code:    500,
			Message: op.FailMessage,
			Details: fmt.Sprintf("Fault injected at step %d of %d of %s", op.FailStep, op.Steps, op.Kind),
			Created: op.StartedAt.Add(time.Duration(op.FailStep) * op.StepLatency),
		}
		s.failed(&e.rec)
	case k >= op.Steps:
		op.Step = op.Steps
		op.Done = true
		s.completed(&e.rec)
	case k != op.Step:
		op.Step = k
	default:
		return false
	}
	if op.finished() {
		delete(s.active, e.rec.ID)
	}
	return true
}

// completed applies the result of r's op, which just finished successfully.
func (s *Simulated) completed(r *record) {
	op := r.Op
	resizePower := func() {
		if r.ResizePower != nil {
			r.Power = *r.ResizePower
		}
	}
	switch op.Kind {
	case OpSpawn, OpPowerOn, OpUnpause, OpResume, OpReboot, OpRebootHard, OpUnrescue, OpUnshelve:
		r.Power = lifecycle.PowerRunning
	case OpRebuild:
		r.Power = lifecycle.PowerRunning
		if op.EndOff {
			r.Power = lifecycle.PowerShutdown
		}
		if op.Image != "" {
			r.Image = op.Image
		}
	case OpPowerOff, OpShelve, OpRescue:
		r.Power = lifecycle.PowerShutdown
	case OpPause:
		r.Power = lifecycle.PowerPaused
	case OpSuspend:
		r.Power = lifecycle.PowerSuspended
	case OpShelveOffload:
		s.releaseAll(r)
		r.Host, r.OldFlavor, r.OldHost, r.ResizePower = "", nil, "", nil
		r.Power = lifecycle.PowerShutdown
	case OpResize:
		resizePower()
	case OpConfirmResize:
		if r.OldFlavor != nil {
			s.release(r.OldHost, *r.OldFlavor)
			r.OldFlavor, r.OldHost = nil, ""
		}
		resizePower()
		r.ResizePower = nil
	case OpRevertResize:
		if r.OldFlavor != nil {
			s.release(r.Host, r.Flavor)
			r.Host, r.Flavor = r.OldHost, *r.OldFlavor
			r.OldFlavor, r.OldHost = nil, ""
		}
		resizePower()
		r.ResizePower = nil
	case OpAttachInterface, OpAttachVolume:
		if i, found := slices.BinarySearch(r.Devices, op.Device); !found {
			r.Devices = slices.Insert(r.Devices, i, op.Device)
		}
	case OpDetachInterface, OpDetachVolume:
		if i, found := slices.BinarySearch(r.Devices, op.Device); found {
			r.Devices = slices.Delete(r.Devices, i, i+1)
		}
	case OpSnapshot, OpSetPassword:
	}
}

// failed releases what r's op (which just failed) added. Power stays the
// pre-op power.
func (s *Simulated) failed(r *record) {
	op := r.Op
	if !op.Placed {
		return
	}
	op.Placed = false
	switch op.Kind {
	case OpSpawn, OpUnshelve:
		s.release(r.Host, r.Flavor)
		r.Host = ""
	case OpResize:
		s.release(r.Host, r.Flavor)
		if r.OldFlavor != nil {
			r.Host, r.Flavor = r.OldHost, *r.OldFlavor
		}
		r.OldFlavor, r.OldHost, r.ResizePower = nil, "", nil
	}
}

// place picks, among the configured hosts that fit f and that allowed passes (nil: all),
// the one with the highest weight (nil: all equal), then the most free RAM, ties broken
// by name; nil if none fits.
func (s *Simulated) place(f Resources, allowed func(*hostState) bool, weight func(*hostState) int) *hostState {
	var best *hostState
	var bestFree int64
	bestWeight := 0
	for _, h := range s.hosts {
		if !h.configured || allowed != nil && !allowed(h) {
			continue
		}
		free := h.free()
		if !free.Fits(f) {
			continue
		}
		w := 0
		if weight != nil {
			w = weight(h)
		}
		if best == nil || w > bestWeight || w == bestWeight && (free.RAMMiB > bestFree || (free.RAMMiB == bestFree && h.name < best.name)) {
			best, bestFree, bestWeight = h, free.RAMMiB, w
		}
	}
	return best
}

// forced is the host a forced spawn goes to, or the fault Nova's scheduler gives: the
// simulated driver has one node per host, named as its host (as libvirt's is), so a node
// names its host and "host:node" must name the same one. Only configured hosts count (a
// host found only in persisted state is gone). Room is still checked, as Nova's placement
// does with in_tree even when filters are skipped.
func (s *Simulated) forced(host, node string, f Resources) (*hostState, *Fault) {
	name := host
	if name == "" {
		name = node
	}
	h := s.byName[name]
	if h == nil || !h.configured || (host != "" && node != "" && node != host) {
		return nil, &Fault{Code: 500, Message: NoSuchHostMessage(host, node),
			Details: fmt.Sprintf("No configured host %q with node %q", host, node)}
	}
	if !h.free().Fits(f) {
		return nil, &Fault{Code: 500, Message: NoRoomOnForcedHostMessage,
			Details: fmt.Sprintf("Forced host %s has no room for vcpus=%d, ram=%dMiB, disk=%dGiB", h.name, f.VCPUs, f.RAMMiB, f.DiskGiB)}
	}
	return h, nil
}

func (h *hostState) free() Resources { return h.limit.sub(h.used) }

func (s *Simulated) host(name string) *hostState {
	h := s.byName[name]
	if h == nil {
		h = &hostState{name: name}
		s.byName[name] = h
		s.hosts = append(s.hosts, h)
		// Unknown hosts sort by name after the configured ones.
		sort.SliceStable(s.hosts, func(i, j int) bool {
			a, b := s.hosts[i], s.hosts[j]
			if a.configured != b.configured {
				return a.configured
			}
			if a.configured {
				return false
			}
			return a.name < b.name
		})
	}
	return h
}

func (s *Simulated) hold(host string, f Resources) {
	if host == "" {
		return
	}
	h := s.host(host)
	h.used = h.used.add(f)
}

func (s *Simulated) release(host string, f Resources) {
	if host == "" {
		return
	}
	h := s.host(host)
	h.used = h.used.sub(f)
}

// holdAll accounts every allocation r holds (used when loading state).
func (s *Simulated) holdAll(r *record) {
	s.hold(r.Host, r.Flavor)
	if r.OldFlavor != nil {
		s.hold(r.OldHost, *r.OldFlavor)
	}
}

// releaseAll frees every allocation r holds.
func (s *Simulated) releaseAll(r *record) {
	s.release(r.Host, r.Flavor)
	if r.OldFlavor != nil {
		s.release(r.OldHost, *r.OldFlavor)
	}
}

// view returns a deep copy of e as an Instance at time now.
func (e *entry) view(now time.Time) Instance {
	r := &e.rec
	inst := Instance{
		ID:      r.ID,
		Host:    r.Host,
		Power:   r.Power,
		Flavor:  r.Flavor,
		OldHost: r.OldHost,
		Image:   r.Image,
		Devices: slices.Clone(r.Devices),
	}
	if r.OldFlavor != nil {
		f := *r.OldFlavor
		inst.OldFlavor = &f
	}
	if op := r.Op; op != nil {
		st := &OpStatus{
			Kind:      op.Kind,
			Token:     op.Token,
			Step:      op.Step,
			Steps:     op.Steps,
			Progress:  int32(100 * op.Step / op.Steps),
			Done:      op.Done,
			Failed:    op.Failed,
			StartedAt: op.StartedAt,
		}
		if op.Fault != nil {
			f := *op.Fault
			st.Fault = &f
		}
		if !op.finished() {
			next := op.StartedAt.Add(time.Duration(op.Step+1) * op.StepLatency)
			st.NextIn = max(next.Sub(now), time.Millisecond)
		}
		inst.Op = st
	}
	return inst
}
