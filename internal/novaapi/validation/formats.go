package validation

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kova-dev/kova/internal/rules"
)

// The reasons Nova's name format checkers give, which its InvalidName message quotes.
const (
	nameReason    = "printable characters. Can not start or end with whitespace."
	keypairChars  = "_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	keypairReason = "Only expected characters: [" + keypairChars + "]"
)

// CheckFormat is Nova's format checkers (and jsonschema's own for ipv4/ipv6). A failed
// name check returns the reason Nova puts in its InvalidName message. An unknown format
// passes, as in jsonschema.
func CheckFormat(format string, inst any) (ok bool, invalidName string) {
	s, isStr := inst.(string)
	switch format {
	case "uuid":
		return isStr && IsUUIDLike(s), ""
	case "name":
		if isStr && ValidName(s) {
			return true, ""
		}
		return false, nameReason
	case "keypair_name_20":
		if isStr && strings.Trim(s, keypairChars) == "" {
			return true, ""
		}
		return false, keypairReason
	case "ipv4", "ipv6":
		return !isStr || isIP(s, format == "ipv4"), ""
	case "date-time":
		_, err := ParseISOTime(s)
		return isStr && err == nil, ""
	case "base64":
		_, err := rules.DecodeBase64(s)
		return isStr && err == nil, ""
	case "regex":
		_, err := regexp.Compile(s)
		return isStr && s != "" && err == nil, ""
	}
	return true, ""
}

func isIP(s string, v4 bool) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	if v4 {
		return a.Is4()
	}
	return a.Is6()
}

// IsUUIDLike is oslo's is_uuid_like: any spelling uuid.UUID accepts (upper case, no
// dashes, braces, a urn: prefix).
func IsUUIDLike(s string) bool {
	_, ok := uuidHex(s)
	return ok
}

func uuidHex(s string) (string, bool) {
	t := strings.ToLower(s)
	t = strings.TrimPrefix(t, "urn:")
	t = strings.TrimPrefix(t, "uuid:")
	t = strings.TrimPrefix(t, "{")
	t = strings.TrimSuffix(t, "}")
	t = strings.ReplaceAll(t, "-", "")
	if len(t) != 32 {
		return "", false
	}
	for _, c := range t {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", false
		}
	}
	return t, true
}

// CanonicalUUID spells a uuid-like id as Kubernetes spells uids (lower case, dashed);
// anything else is returned as it is.
func CanonicalUUID(s string) string {
	t, ok := uuidHex(s)
	if !ok {
		return s
	}
	return t[:8] + "-" + t[8:12] + "-" + t[12:16] + "-" + t[16:20] + "-" + t[20:]
}

// ValidName is Nova's valid_name_regex: printable characters of the basic multilingual
// plane, not starting or ending with white space.
func ValidName(s string) bool {
	if s == "" {
		return true // minLength, not the format, refuses the empty name
	}
	rs := []rune(s)
	for _, r := range rs {
		if !IsPrintable(r) {
			return false
		}
	}
	return !unicode.Is(unicode.Zs, rs[0]) && !unicode.Is(unicode.Zs, rs[len(rs)-1])
}

// IsPrintable is Nova's _is_printable over its character range (up to U+FFFF): not in a
// C category, and no separator but the space separators.
func IsPrintable(r rune) bool {
	if r > 0xFFFF {
		return false
	}
	if unicode.In(r, unicode.Zl, unicode.Zp) {
		return false
	}
	if unicode.Is(unicode.Zs, r) {
		return true
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

var isoRE = regexp.MustCompile(`^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$`)

// ParseISOTime reads what oslo's parse_isotime (the iso8601 library) accepts: a date,
// optionally a time with seconds and fraction, optionally a zone; no zone means UTC.
func ParseISOTime(s string) (time.Time, error) {
	m := isoRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(m[i])
		return n
	}
	month, day, hour, minute, sec := num(2), num(3), num(4), num(5), num(6)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	t := time.Date(num(1), time.Month(month), day, hour, minute, sec, fraction(m[7]), zone(m[8]))
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	return t, nil
}

// fraction is the nanoseconds of a fraction of a second's digits.
func fraction(frac string) int {
	if frac == "" {
		return 0
	}
	for len(frac) < 9 {
		frac += "0"
	}
	nsec, _ := strconv.Atoi(frac[:9])
	return nsec
}

var digitsRE = regexp.MustCompile(`\d+`)

// zone is the location of an ISO 8601 zone designator: none or Z is UTC.
func zone(z string) *time.Location {
	if z == "" || z == "Z" || z == "z" {
		return time.UTC
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	digits := digitsRE.FindAllString(z, -1)
	hh, _ := strconv.Atoi(digits[0][:2])
	mm := 0
	if len(digits) > 1 {
		mm, _ = strconv.Atoi(digits[1])
	} else if len(digits[0]) == 4 {
		mm, _ = strconv.Atoi(digits[0][2:])
	}
	return time.FixedZone(z, sign*(hh*3600+mm*60))
}
