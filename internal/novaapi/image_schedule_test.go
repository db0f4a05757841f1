package novaapi

import (
	"fmt"
	"net/http"
	"testing"
)

// TestImageSchedule enables, changes, shows and disables a server's scheduled images, and
// checks that each answer is what Server.spec.imageSchedule holds.
func TestImageSchedule(t *testing.T) {
	e := newEnv(t, standard(server("srv-a", srvUID, base))...)
	path := "/servers/" + srvUID + "/rax-si-image-schedule"

	e.do(http.MethodGet, path, "").expectFault(404, "itemNotFound", "Scheduled images are not enabled for server "+srvUID+".")
	e.do(http.MethodDelete, path, "").expectFault(404, "itemNotFound", "Scheduled images are not enabled for server "+srvUID+".")

	got := e.do(http.MethodPost, path, `{"image_schedule": {"retention": 7}}`).expect(200).object()
	if fmt.Sprint(got) != "map[image_schedule:map[retention:7]]" {
		t.Errorf("enable = %v", got)
	}
	if s := e.getServer("srv-a").Spec.ImageSchedule; s == nil || s.Retention != 7 || s.DayOfWeek != "" {
		t.Fatalf("spec.imageSchedule = %+v", s)
	}
	e.do(http.MethodPost, path, `{"image_schedule": {"retention": 2, "day_of_week": "MONDAY"}}`).expect(200)
	got = e.do(http.MethodGet, path, "").expect(200).object()
	if fmt.Sprint(got) != "map[image_schedule:map[day_of_week:MONDAY retention:2]]" {
		t.Errorf("show = %v", got)
	}

	bad := []struct{ body, msg string }{
		{`{"image_schedule": {}}`, "Invalid input for field/attribute image_schedule. Value: {}. 'retention' is a required property"},
		{`{"image_schedule": {"retention": 0}}`, "Invalid input for field/attribute retention. Value: 0. 0 is less than the minimum of 1"},
		{`{"image_schedule": {"retention": 101}}`, "Invalid input for field/attribute retention. Value: 101. 101 is greater than the maximum of 100"},
		{`{"image_schedule": {"retention": 1, "day_of_week": "monday"}}`, "Invalid input for field/attribute day_of_week. Value: monday. 'monday' is not one of ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY']"},
		{`{"retention": 1}`, "'image_schedule' is a required property"},
	}
	for _, b := range bad {
		t.Run(b.body, func(t *testing.T) {
			e.do(http.MethodPost, path, b.body).expectFault(400, "badRequest", b.msg)
		})
	}
	if s := e.getServer("srv-a").Spec.ImageSchedule; s == nil || s.Retention != 2 || s.DayOfWeek != "MONDAY" {
		t.Errorf("a refused enable changed spec.imageSchedule: %+v", s)
	}

	e.do(http.MethodDelete, path, "").expect(202)
	if s := e.getServer("srv-a").Spec.ImageSchedule; s != nil {
		t.Errorf("spec.imageSchedule after disable = %+v", s)
	}
	e.do(http.MethodGet, path, "").expectFault(404, "itemNotFound", "Scheduled images are not enabled for server "+srvUID+".")
	e.do(http.MethodGet, "/servers/nope/rax-si-image-schedule", "").expectFault(404, "itemNotFound", "Instance nope could not be found.")
}
