package novaapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Microversion headers, in and out (nova/api/openstack/wsgi.py).
const (
	headerAPIVersion       = "OpenStack-API-Version"
	headerLegacyAPIVersion = "X-OpenStack-Nova-API-Version"
	varyAPIVersion         = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
)

// apiVersion is a compute API microversion, 2.x.
type apiVersion struct{ major, minor int }

// The microversions Kova serves. The maximum is the highest microversion whose every
// change Kova implements, or answers as Nova would (a 501 for what it lacks): 2.79.
// Past it, 2.80-2.93 add filters, fields and behaviours (2.83's non-admin filters, 2.90's
// hostname, 2.92's import-only keypairs) that are not built yet.
var (
	minVersion = apiVersion{2, 1}
	maxVersion = apiVersion{2, 79}
)

func (v apiVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// atLeast says whether v is 2.minor or later.
func (v apiVersion) atLeast(minor int) bool {
	return v.major > 2 || (v.major == 2 && v.minor >= minor)
}

// atMost says whether v is 2.minor or earlier.
func (v apiVersion) atMost(minor int) bool {
	return v.major < 2 || (v.major == 2 && v.minor <= minor)
}

func (v apiVersion) less(o apiVersion) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

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
	v := apiVersion{major, minor}
	if v.less(minVersion) || maxVersion.less(v) {
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
