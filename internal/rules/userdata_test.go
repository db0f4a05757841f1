package rules

import "testing"

func TestDecodeBase64(t *testing.T) {
	if b, err := DecodeBase64("aG\nk="); err != nil || string(b) != "hi" {
		t.Errorf("DecodeBase64 with a newline = %q, %v", b, err)
	}
	for _, s := range []string{"aGk", "!!notb64"} {
		if _, err := DecodeBase64(s); err == nil {
			t.Errorf("DecodeBase64(%q) accepted", s)
		}
	}
}
