package compute

import (
	"fmt"
	"math"
)

// Nova's default allocation ratios (nova.conf [DEFAULT] cpu_allocation_ratio,
// ram_allocation_ratio, disk_allocation_ratio since Stein's initial_*_allocation_ratio):
// a host sells four times its vCPUs and exactly its RAM and disk.
const (
	DefaultCPUAllocationRatio  = 4.0
	DefaultRAMAllocationRatio  = 1.0
	DefaultDiskAllocationRatio = 1.0
)

// AllocationRatios overcommit a host as Nova's placement does: the room a host offers to
// flavors is its capacity times the ratio, rounded down (placement's
// (total - reserved) * allocation_ratio). A zero ratio means Nova's default.
type AllocationRatios struct {
	CPU, RAM, Disk float64
}

// DefaultAllocationRatios are Nova's defaults.
func DefaultAllocationRatios() AllocationRatios {
	return AllocationRatios{CPU: DefaultCPUAllocationRatio, RAM: DefaultRAMAllocationRatio, Disk: DefaultDiskAllocationRatio}
}

// orDefaults fills each unset (zero) ratio with Nova's default.
func (a AllocationRatios) orDefaults() AllocationRatios {
	d := DefaultAllocationRatios()
	if a.CPU == 0 {
		a.CPU = d.CPU
	}
	if a.RAM == 0 {
		a.RAM = d.RAM
	}
	if a.Disk == 0 {
		a.Disk = d.Disk
	}
	return a
}

// validate refuses ratios that are negative or not numbers.
func (a AllocationRatios) validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"cpu", a.CPU}, {"RAM", a.RAM}, {"disk space", a.Disk}} {
		if r.v < 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			return fmt.Errorf("compute: %s allocation ratio %v: want a positive number", r.name, r.v)
		}
	}
	return nil
}

// Limit is the room a host of capacity c offers to flavors.
func (a AllocationRatios) Limit(c Resources) Resources {
	return Resources{
		VCPUs:   int32(min(math.Floor(float64(c.VCPUs)*a.CPU), math.MaxInt32)),
		RAMMiB:  int64(min(math.Floor(float64(c.RAMMiB)*a.RAM), math.MaxInt64/2)),
		DiskGiB: int64(min(math.Floor(float64(c.DiskGiB)*a.Disk), math.MaxInt64/2)),
	}
}
