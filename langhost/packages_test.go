package main

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

func TestPluginVersion(t *testing.T) {
	cases := map[string]string{
		"1":                "1.0.0",
		"1.2":              "1.2.0",
		"6.66.3":           "6.66.3",
		"1.2.3a4":          "1.2.3-alpha.4",
		"1.2.3b5":          "1.2.3-beta.5",
		"1.2.3rc1":         "1.2.3-rc.1",
		"1.2.3.post4":      "1.2.3+post4",
		"1.2.3.dev5":       "1.2.3+dev5",
		"1.2.3.post4.dev5": "1.2.3+post4dev5",
	}
	for python, want := range cases {
		if got, ok := pluginVersion(python); !ok || got != want {
			t.Errorf("pluginVersion(%q) = %q, %v; want %q", python, got, ok, want)
		}
	}
	for _, bad := range []string{"", "1.2.3.4", "1!2.0", "1.0+local", "latest"} {
		if got, ok := pluginVersion(bad); ok {
			t.Errorf("pluginVersion(%q) = %q; want no version", bad, got)
		}
	}
}

func TestPackageDependency(t *testing.T) {
	aws := plugin.DependencyInfo{Name: "pulumi-aws", Version: "6.1.0"}
	if dep := packageDependency(aws, nil); dep == nil || dep.Name != "aws" || dep.Version != "v6.1.0" {
		t.Errorf("pulumi-aws without pulumi-plugin.json: got %v", dep)
	}
	ours := plugin.DependencyInfo{Name: "pulumi-webhooks", Version: "0.1.0"}
	if dep := packageDependency(ours, &plugin.PulumiPluginJSON{Resource: false}); dep != nil {
		t.Errorf(`"resource": false must need no plugin, got %v`, dep)
	}
	named := &plugin.PulumiPluginJSON{Resource: true, Name: "random", Version: "4.0.0", Server: "https://example.com"}
	dep := packageDependency(plugin.DependencyInfo{Name: "my-random", Version: "9.9"}, named)
	if dep == nil || dep.Name != "random" || dep.Version != "v4.0.0" || dep.Server != "https://example.com" {
		t.Errorf("pulumi-plugin.json name, version and server must win: got %v", dep)
	}
	for _, pkg := range []plugin.DependencyInfo{{Name: "requests", Version: "2.0"}, {Name: "pulumi-policy", Version: "1.0"}} {
		if dep := packageDependency(pkg, nil); dep != nil {
			t.Errorf("%s needs no plugin, got %v", pkg.Name, dep)
		}
	}
}
