package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
)

func TestServerConfigFieldPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field string
		want  path.Path
		group string
	}{
		{"listen.port", path.Root("listen").AtName("port"), "listen"},
		{"nodes[1].server_name", path.Root("nodes").AtListIndex(1).AtName("server_name"), "nodes"},
		{"leafnodes.remotes[0].urls[2]", path.Root("leafnodes").AtName("remotes").AtListIndex(0).AtName("urls").AtListIndex(2), "leafnodes"},
		{"cluster.routes[3]", path.Root("cluster").AtName("routes").AtListIndex(3), "cluster"},
		// A set has no element index: the error points at the set.
		{"websocket.allowed_origins[0]", path.Root("websocket").AtName("allowed_origins"), "websocket"},
		{"cluster", path.Root("cluster"), "cluster"},
	}
	for _, tt := range tests {
		if got := fieldPath(tt.field); !got.Equal(tt.want) {
			t.Errorf("fieldPath(%q) = %s, want %s", tt.field, got, tt.want)
		}
		if got := fieldGroup(tt.field); got != tt.group {
			t.Errorf("fieldGroup(%q) = %q, want %q", tt.field, got, tt.group)
		}
	}
}
