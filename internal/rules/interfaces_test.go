package rules

import "testing"

func TestMAC(t *testing.T) {
	if m := MAC("uid", "net"); len(m) != 17 || m[:9] != "fa:16:3e:" || m != MAC("uid", "net") {
		t.Errorf("MAC = %q is not a stable fa:16:3e address", m)
	}
}

func TestInterfaceID(t *testing.T) {
	a := InterfaceID("uid", "ns", "net")
	if a != InterfaceID("uid", "ns", "net") || len(a) != 36 {
		t.Errorf("InterfaceID %q is not a stable uuid", a)
	}
	for _, other := range []string{InterfaceID("uid2", "ns", "net"), InterfaceID("uid", "public", "net"), InterfaceID("uid", "ns", "net2")} {
		if other == a {
			t.Errorf("two interfaces share the id %s", a)
		}
	}
}
