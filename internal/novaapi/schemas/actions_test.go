package schemas

import (
	"testing"

	"github.com/kova-dev/kova/internal/novaapi/microversion"
)

func TestActionSchemas(t *testing.T) {
	checkBodies(t, []bodyCase{
		{"reboot", Reboot, `{"reboot": {"type": "soft"}}`, ""},
		{"reboot type", Reboot, `{"reboot": {"type": "warm"}}`,
			"Invalid input for field/attribute type. Value: warm. 'warm' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']"},
		{"reboot without type", Reboot, `{"reboot": {}}`,
			"Invalid input for field/attribute reboot. Value: {}. 'type' is a required property"},
		{"action beside another", Reboot, `{"reboot": {"type": "HARD"}, "pause": null}`,
			"Additional properties are not allowed ('pause' was unexpected)"},
		{"resize", Resize, `{"resize": {"flavorRef": 2}}`, ""},
		{"resize without flavor", Resize, `{"resize": {"OS-DCF:diskConfig": "AUTO"}}`,
			"Invalid input for field/attribute resize. Value: {'OS-DCF:diskConfig': 'AUTO'}. 'flavorRef' is a required property"},
		{"resize diskConfig", Resize, `{"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "auto"}}`,
			"Invalid input for field/attribute OS-DCF:diskConfig. Value: auto. 'auto' is not one of ['AUTO', 'MANUAL']"},
		{"createImage name", CreateImage, `{"createImage": {"name": " snap"}}`,
			"An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace."},
		{"createImage metadata key", CreateImage, `{"createImage": {"name": "snap", "metadata": {"a/b": "c"}}}`,
			"Invalid input for field/attribute metadata. Value: {'a/b': 'c'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"},
		{"changePassword", ChangePassword, `{"changePassword": {"adminPass": 5}}`,
			"Invalid input for field/attribute adminPass. Value: 5. 5 is not of type 'string'"},
		{"rescue takes null", Rescue, `{"rescue": null}`, ""},
		{"rescue image", Rescue, `{"rescue": {"rescue_image_ref": "cirros"}}`,
			"Invalid input for field/attribute rescue_image_ref. Value: cirros. 'cirros' is not a 'uuid'"},
		{"trigger_crash_dump is null", TriggerCrashDump, `{"trigger_crash_dump": {}}`,
			"Invalid input for field/attribute trigger_crash_dump. Value: {}. {} is not of type 'null'"},
		{"rebuild needs an image", Rebuild(microversion.Min), `{"rebuild": {"name": "x"}}`,
			"Invalid input for field/attribute rebuild. Value: {'name': 'x'}. 'imageRef' is a required property"},
		{"rebuild key_name from 2.54", Rebuild(microversion.V2(53)), `{"rebuild": {"imageRef": "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10", "key_name": null}}`,
			"Invalid input for field/attribute rebuild. Value: {'imageRef': '6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10', 'key_name': None}. Additional properties are not allowed ('key_name' was unexpected)"},
		{"rebuild key_name null at 2.54", Rebuild(microversion.V2(54)), `{"rebuild": {"imageRef": "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10", "key_name": null}}`, ""},
		{"rebuild personality gone at 2.57", Rebuild(microversion.V2(57)), `{"rebuild": {"imageRef": "6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10", "personality": []}}`,
			"Invalid input for field/attribute rebuild. Value: {'imageRef': '6b1c2a5e-3f0d-4c8e-9a47-0e5c3b1d2f10', 'personality': []}. Additional properties are not allowed ('personality' was unexpected)"},
		{"lock reason at 2.73", Lock(microversion.V2(73)), `{"lock": {"locked_reason": ""}}`,
			"Invalid input for field/attribute locked_reason. Value: . '' is too short"},
		{"unshelve zone at 2.77", Unshelve(microversion.V2(77)), `{"unshelve": {}}`,
			"Invalid input for field/attribute unshelve. Value: {}. 'availability_zone' is a required property"},
	})
	if Lock(microversion.V2(72)) != nil || Unshelve(microversion.V2(76)) != nil {
		t.Error("lock before 2.73 or unshelve before 2.77 has a schema")
	}
}
