package identity

import (
	"context"
	"net/http"
)

// Cloud is one cloud of a clouds.yaml (openstacksdk's client configuration) that logs user
// in to project at authURL (.../identity/v3), trusting caFile: what `make run` writes for
// its demo users and what the end-to-end tests give the openstack CLI.
func Cloud(authURL, user, password, project, caFile, imageOverride string) map[string]any {
	cloud := map[string]any{
		"auth": map[string]any{
			"auth_url": authURL, "username": user, "password": password, "project_name": project,
			"user_domain_name": defaultDomainName, "project_domain_name": defaultDomainName,
		},
		"identity_api_version": 3,
		"region_name":          region,
		"cacert":               caFile,
		"compute_api_version":  "2.37",
	}
	if imageOverride != "" {
		cloud["image_endpoint_override"] = imageOverride
	}
	return cloud
}

// ImageEndpointOverride is "" when base serves the image service at /image, as the
// catalog says; otherwise the compute endpoint of project, where the CLI's image lookups
// went before (it looks every image up in the image service, even by id, and server list
// names each server's image). Kept until every nova-api serves /image.
func ImageEndpointOverride(ctx context.Context, c *http.Client, base, project string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/image", nil)
	if err != nil {
		return ""
	}
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return base + "/v2.1/" + project
	}
	return ""
}
