package novaapi

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

// Microversion headers, in and out (nova/api/openstack/wsgi.py).
const (
	headerAPIVersion       = "OpenStack-API-Version"
	headerLegacyAPIVersion = "X-OpenStack-Nova-API-Version"
	varyAPIVersion         = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
)

// apiVersion is a compute API microversion, 2.x (package microversion).
type apiVersion = microversion.Version

// The microversions Kova serves.
var (
	minVersion = microversion.Min
	maxVersion = microversion.Max
)

var versionRE = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

// requestedVersion reads the microversion a request asks for, as microversion-parse does
// for Nova: the standard header's "compute" entry first, then the legacy header's last
// value; none means the minimum, "latest" the maximum. A malformed version is a 400, one
// out of range a 406 (a computeFault in Nova's body, since its faults have no name for
// 406).
func requestedVersion(h http.Header) (apiVersion, *apiError) {
	s, ok := standardVersion(h)
	if !ok {
		s, ok = legacyVersion(h)
	}
	if !ok {
		return minVersion, nil
	}
	if s == "latest" {
		return maxVersion, nil
	}
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return apiVersion{}, badRequest("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", s)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	v := apiVersion{Major: major, Minor: minor}
	if v.Less(minVersion) || maxVersion.Less(v) {
		return apiVersion{}, newError(http.StatusNotAcceptable,
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, minVersion, maxVersion)
	}
	return v, nil
}

func standardVersion(h http.Header) (string, bool) {
	vals := h.Values(headerAPIVersion)
	if len(vals) == 0 {
		return "", false
	}
	for _, part := range strings.Split(strings.Join(vals, ","), ",") {
		fields := strings.Fields(part)
		if len(fields) >= 2 && strings.EqualFold(fields[0], "compute") {
			return strings.TrimSpace(strings.Join(fields[1:], " ")), true
		}
	}
	return "", false
}

func legacyVersion(h http.Header) (string, bool) {
	vals := h.Values(headerLegacyAPIVersion)
	if len(vals) == 0 {
		return "", false
	}
	parts := strings.Split(strings.Join(vals, ","), ",")
	return strings.TrimSpace(parts[len(parts)-1]), true
}

// setVersionHeaders echoes the microversion in both headers and says responses vary on
// them.
func setVersionHeaders(h http.Header, v apiVersion) {
	h.Set(headerAPIVersion, "compute "+v.String())
	h.Set(headerLegacyAPIVersion, v.String())
	h.Set("Vary", varyAPIVersion)
}
