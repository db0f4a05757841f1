package rules

import (
	"encoding/base64"
	"strings"
	"unicode"
)

// DecodeBase64 is Python's base64.b64decode as Nova calls it on user data: white space
// ignored, padding required. The REST schemas' "base64" format and the admission webhook
// both ask it, so a value one accepts the other does too.
func DecodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

// UserDataNotBase64 is Nova's message for user data that does not decode.
const UserDataNotBase64 = "User data needs to be valid base 64."
