package compute

import (
	"reflect"
	"strings"
	"testing"
)

func TestResourcesFits(t *testing.T) {
	room := Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 80}
	tests := []struct {
		name string
		in   Resources
		want bool
	}{
		{"zero", Resources{}, true},
		{"exact", room, true},
		{"smaller", Resources{VCPUs: 1, RAMMiB: 512, DiskGiB: 1}, true},
		{"too many vcpus", Resources{VCPUs: 5, RAMMiB: 512, DiskGiB: 1}, false},
		{"too much ram", Resources{VCPUs: 1, RAMMiB: 8193, DiskGiB: 1}, false},
		{"too much disk", Resources{VCPUs: 1, RAMMiB: 512, DiskGiB: 81}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := room.Fits(tt.in); got != tt.want {
				t.Errorf("%+v.Fits(%+v) = %v, want %v", room, tt.in, got, tt.want)
			}
		})
	}
	if (Resources{VCPUs: -1}).Fits(Resources{}) {
		t.Error("oversubscribed room fits nothing, not even zero")
	}
}

func TestDefaultHosts(t *testing.T) {
	hs := DefaultHosts()
	if len(hs) != 4 {
		t.Fatalf("got %d hosts, want 4", len(hs))
	}
	for i, h := range hs {
		want := HostInfo{Name: "sim-host-" + string(rune('1'+i)), Capacity: Resources{VCPUs: 64, RAMMiB: 262144, DiskGiB: 2000}}
		if h != want {
			t.Errorf("host %d = %+v, want %+v", i, h, want)
		}
	}
}

func TestParseHosts(t *testing.T) {
	tests := []struct {
		spec    string
		want    []HostInfo
		wantErr string
	}{
		{
			spec: "h1:vcpus=8,ram=16384,disk=100;h2:vcpus=4,ram=8192,disk=50",
			want: []HostInfo{
				{Name: "h1", Capacity: Resources{VCPUs: 8, RAMMiB: 16384, DiskGiB: 100}},
				{Name: "h2", Capacity: Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 50}},
			},
		},
		{
			spec: " h1 : disk=1 , RAM=2, vcpus=3 ; ",
			want: []HostInfo{{Name: "h1", Capacity: Resources{VCPUs: 3, RAMMiB: 2, DiskGiB: 1}}},
		},
		{spec: "", wantErr: "names no hosts"},
		{spec: " ; ", wantErr: "names no hosts"},
		{spec: "h1", wantErr: "want NAME:vcpus=N,ram=MiB,disk=GiB"},
		{spec: ":vcpus=1,ram=1,disk=1", wantErr: "empty host name"},
		{spec: "h 1:vcpus=1,ram=1,disk=1", wantErr: "whitespace"},
		{spec: "h1:vcpus=1,ram=1", wantErr: `missing field "disk"`},
		{spec: "h1:vcpus=1,ram=1,disk=1,gpus=2", wantErr: `unknown field "gpus"`},
		{spec: "h1:vcpus=x,ram=1,disk=1", wantErr: `vcpus="x": want a non-negative integer`},
		{spec: "h1:vcpus=-1,ram=1,disk=1", wantErr: "non-negative"},
		{spec: "h1:vcpus=99999999999,ram=1,disk=1", wantErr: "vcpus"},
		{spec: "h1:vcpus=1,ram,disk=1", wantErr: `field "ram": want KEY=VALUE`},
		{spec: "h1:vcpus=1,vcpus=2,ram=1,disk=1", wantErr: `duplicate field "vcpus"`},
		{spec: "h1:vcpus=1,ram=1,disk=1;h1:vcpus=1,ram=1,disk=1", wantErr: `duplicate host "h1"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseHosts(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseHosts(%q) error = %v, want one containing %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHosts(%q): %v", tt.spec, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseHosts(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestHostID(t *testing.T) {
	// sha224("abc") is the FIPS 180-2 test vector.
	const abc = "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"
	tests := []struct {
		tenant, host, want string
	}{
		{"a", "bc", abc},
		{"ab", "c", abc},
		{"", "abc", abc},
		{"tenant", "", ""}, // Nova returns "" for an unplaced instance
	}
	for _, tt := range tests {
		if got := HostID(tt.tenant, tt.host); got != tt.want {
			t.Errorf("HostID(%q, %q) = %q, want %q", tt.tenant, tt.host, got, tt.want)
		}
	}
	if HostID("p1", "h") == HostID("p2", "h") {
		t.Error("hostId must differ between projects")
	}
}

func TestOpKindValid(t *testing.T) {
	if OpKind("explode").Valid() || !OpShelveOffload.Valid() {
		t.Error("OpKind.Valid is wrong")
	}
}
