package compute

import (
	"errors"
	"testing"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

func spawned(t *testing.T, s *Simulated, id string) {
	t.Helper()
	if inst := mustStart(t, s, id, OpRequest{Kind: OpSpawn, Token: "spawn", Flavor: Resources{VCPUs: 1, RAMMiB: 512, DiskGiB: 1}}); !inst.Op.Done {
		t.Fatalf("spawn of %s did not finish at once: %+v", id, inst.Op)
	}
}

func TestChangeBehindKovaPowerAndEvent(t *testing.T) {
	dir := t.TempDir()
	s := newSim(t, SimulatedConfig{StateDir: dir})
	spawned(t, s, "a")
	var events []string
	s.Notify(func(id string) { events = append(events, id) })

	if err := s.PowerOffBehindKova(ctx, "a"); err != nil {
		t.Fatalf("PowerOffBehindKova: %v", err)
	}
	if got := mustGet(t, s, "a"); got.Power != lifecycle.PowerShutdown || got.Op.Kind != OpSpawn {
		t.Fatalf("after a power-off behind Kova: power %s, op %s; want Shutdown and the last op untouched", got.Power, got.Op.Kind)
	}
	if err := s.ChangeBehindKova(ctx, "a", OutOfBand{Power: lifecycle.PowerCrashed, Silent: true}); err != nil {
		t.Fatalf("silent crash: %v", err)
	}
	if len(events) != 1 || events[0] != "a" {
		t.Fatalf("events %v, want one for a (the silent change sends none)", events)
	}
	// The change is persisted: a new process sees it.
	if got := mustGet(t, newSim(t, SimulatedConfig{StateDir: dir}), "a"); got.Power != lifecycle.PowerCrashed {
		t.Fatalf("after a restart: power %s, want Crashed", got.Power)
	}
	// Kova's own operations send no event.
	mustStart(t, s, "a", OpRequest{Kind: OpPowerOn, Token: "on"})
	if len(events) != 1 {
		t.Fatalf("a power-on Kova started sent an event: %v", events)
	}
	if got := mustGet(t, s, "a"); got.Power != lifecycle.PowerRunning {
		t.Fatalf("power-on after a crash: power %s, want Running", got.Power)
	}
}

func TestVanishBehindKova(t *testing.T) {
	dir := t.TempDir()
	s := newSim(t, SimulatedConfig{StateDir: dir, Hosts: []HostInfo{{Name: "h1", Capacity: Resources{VCPUs: 4, RAMMiB: 4096, DiskGiB: 40}}}})
	spawned(t, s, "a")
	var events []string
	s.Notify(func(id string) { events = append(events, id) })
	if err := s.VanishBehindKova(ctx, "a"); err != nil {
		t.Fatalf("VanishBehindKova: %v", err)
	}
	if _, err := s.Get(ctx, "a"); err != ErrNotFound {
		t.Fatalf("Get of a vanished instance: %v, want ErrNotFound", err)
	}
	if u := used(t, s, "h1"); u != (Resources{}) {
		t.Fatalf("the vanished instance still holds %+v", u)
	}
	if len(events) != 1 || events[0] != "a" {
		t.Fatalf("events %v, want one for a", events)
	}
	if _, err := newSim(t, SimulatedConfig{StateDir: dir}).Get(ctx, "a"); err != ErrNotFound {
		t.Fatalf("after a restart the vanished instance is back: %v", err)
	}
	if err := s.VanishBehindKova(ctx, "a"); err != ErrNotFound {
		t.Fatalf("vanishing twice: %v, want ErrNotFound", err)
	}
}

func TestChangeBehindKovaRefusals(t *testing.T) {
	clock := newClock()
	s := newSim(t, SimulatedConfig{StepLatency: time.Second, Now: clock.Now})
	if err := s.PowerOffBehindKova(ctx, "nope"); err != ErrNotFound {
		t.Fatalf("unknown instance: %v, want ErrNotFound", err)
	}
	mustStart(t, s, "a", OpRequest{Kind: OpSpawn, Token: "spawn", Steps: 2, Flavor: Resources{VCPUs: 1}})
	if err := s.PowerOffBehindKova(ctx, "a"); err != ErrBusy {
		t.Fatalf("during an operation: %v, want ErrBusy", err)
	}
	clock.Advance(2 * time.Second)
	if err := s.ChangeBehindKova(ctx, "a", OutOfBand{Power: 2}); err == nil {
		t.Fatal("power state 2 (a gap in Nova's numbering) was accepted")
	}
	mustStart(t, s, "a", OpRequest{Kind: OpShelveOffload, Token: "offload"})
	clock.Advance(time.Second)
	if err := s.PowerOffBehindKova(ctx, "a"); !errors.Is(err, ErrNoHost) {
		t.Fatalf("an offloaded instance: %v, want ErrNoHost", err)
	}
}

// A rebuild asked to end off (of a stopped server) leaves the instance shut down; one
// that is not powers it on.
func TestRebuildEndOff(t *testing.T) {
	s := newSim(t, SimulatedConfig{})
	spawned(t, s, "a")
	mustStart(t, s, "a", OpRequest{Kind: OpPowerOff, Token: "off"})
	if got := mustStart(t, s, "a", OpRequest{Kind: OpRebuild, Token: "rb1", EndOff: true}); got.Power != lifecycle.PowerShutdown {
		t.Fatalf("rebuild with EndOff: power %s, want Shutdown", got.Power)
	}
	if got := mustStart(t, s, "a", OpRequest{Kind: OpRebuild, Token: "rb2"}); got.Power != lifecycle.PowerRunning {
		t.Fatalf("rebuild: power %s, want Running", got.Power)
	}
}
