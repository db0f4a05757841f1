package compute

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultHosts returns the simulated driver's default hosts: four hosts
// "sim-host-1".."sim-host-4", each with 64 vCPUs, 256 GiB RAM and 2000 GiB
// disk.
func DefaultHosts() []HostInfo {
	hosts := make([]HostInfo, 4)
	for i := range hosts {
		hosts[i] = HostInfo{
			Name:     fmt.Sprintf("sim-host-%d", i+1),
			Capacity: Resources{VCPUs: 64, RAMMiB: 256 * 1024, DiskGiB: 2000},
		}
	}
	return hosts
}

// ParseHosts parses a host list such as
// "h1:vcpus=8,ram=16384,disk=100;h2:vcpus=4,ram=8192,disk=50" (ram in MiB,
// disk in GiB), as given to a manager flag. Hosts are separated by ';', each
// is NAME:KEY=VALUE,... with all three keys vcpus, ram and disk required.
// Whitespace around items is ignored, as are empty items (a trailing ';').
func ParseHosts(spec string) ([]HostInfo, error) {
	var hosts []HostInfo
	seen := map[string]bool{}
	for i, item := range strings.Split(spec, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, fields, ok := strings.Cut(item, ":")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("compute: host spec item %d %q: want NAME:vcpus=N,ram=MiB,disk=GiB", i+1, item)
		}
		if err := validHostName(name); err != nil {
			return nil, fmt.Errorf("compute: host spec item %d %q: %v", i+1, item, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("compute: host spec: duplicate host %q", name)
		}
		seen[name] = true
		h := HostInfo{Name: name}
		got := map[string]bool{}
		for _, kv := range strings.Split(fields, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
			if !ok {
				return nil, fmt.Errorf("compute: host %q: field %q: want KEY=VALUE", name, kv)
			}
			if got[k] {
				return nil, fmt.Errorf("compute: host %q: duplicate field %q", name, k)
			}
			bits := 64
			if k == fieldVCPUs {
				bits = 32
			}
			n, err := strconv.ParseInt(v, 10, bits)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("compute: host %q: field %s=%q: want a non-negative integer", name, k, v)
			}
			switch k {
			case fieldVCPUs:
				h.Capacity.VCPUs = int32(n)
			case "ram":
				h.Capacity.RAMMiB = n
			case "disk":
				h.Capacity.DiskGiB = n
			default:
				return nil, fmt.Errorf("compute: host %q: unknown field %q (want vcpus, ram, disk)", name, k)
			}
			got[k] = true
		}
		for _, k := range []string{fieldVCPUs, "ram", "disk"} {
			if !got[k] {
				return nil, fmt.Errorf("compute: host %q: missing field %q (want vcpus=N,ram=MiB,disk=GiB)", name, k)
			}
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("compute: host spec %q names no hosts", spec)
	}
	return hosts, nil
}

func validHostName(name string) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if strings.ContainsAny(name, ":;,= \t\r\n") {
		return fmt.Errorf("host name %q contains one of ':;,=' or whitespace", name)
	}
	return nil
}

// fieldVCPUs is the --sim-hosts key for a host's vCPUs.
const fieldVCPUs = "vcpus"
