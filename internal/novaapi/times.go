package novaapi

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Nova's two time formats: utils.isotime for created/updated ("2026-11-22T12:36:40Z"),
// and str() of a naive datetime through its JSON serializer for the OS-SRV-USG stamps,
// instance actions and keypairs ("2026-11-22T12:36:41.000000").
const (
	isoTimeLayout = "2006-01-02T15:04:05Z"
	naiveLayout   = "2006-01-02T15:04:05.000000"
)

func isoTime(t time.Time) string { return t.UTC().Format(isoTimeLayout) }

func naiveTime(t time.Time) string { return t.UTC().Format(naiveLayout) }

// naiveOrNull renders an optional timestamp in the naive format, or null.
func naiveOrNull(t *metav1.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return naiveTime(t.Time)
}

var isoRE = regexp.MustCompile(`^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$`)

// parseISOTime reads what oslo's parse_isotime (the iso8601 library) accepts: a date,
// optionally a time with seconds and fraction, optionally a zone; no zone means UTC.
func parseISOTime(s string) (time.Time, error) {
	m := isoRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	num := func(i int) int {
		if m[i] == "" {
			return 0
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	nsec := 0
	if frac := m[7]; frac != "" {
		for len(frac) < 9 {
			frac += "0"
		}
		nsec, _ = strconv.Atoi(frac[:9])
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" && z != "z" {
		sign := 1
		if z[0] == '-' {
			sign = -1
		}
		digits := regexp.MustCompile(`\d+`).FindAllString(z, -1)
		hh, _ := strconv.Atoi(digits[0][:2])
		mm := 0
		if len(digits) > 1 {
			mm, _ = strconv.Atoi(digits[1])
		} else if len(digits[0]) == 4 {
			mm, _ = strconv.Atoi(digits[0][2:])
		}
		loc = time.FixedZone(z, sign*(hh*3600+mm*60))
	}
	month, day, hour, minute, sec := num(2), num(3), num(4), num(5), num(6)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || sec > 60 {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	t := time.Date(num(1), time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("unable to parse date string %q", s)
	}
	return t, nil
}
