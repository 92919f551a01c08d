package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// TestInstalledPackagesFindsPluginFiles runs the listing script in a real Python over a
// directory holding one distribution with a pulumi-plugin.json and one without.
func TestInstalledPackagesFindsPluginFiles(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH")
	}
	dir := t.TempDir()
	write := func(path, text string) {
		t.Helper()
		full := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pulumi_fake-1.2.3.dist-info/METADATA", "Metadata-Version: 2.1\nName: Pulumi_Fake\nVersion: 1.2.3\n")
	write("pulumi_fake/__init__.py", "")
	write("pulumi_fake/pulumi-plugin.json", `{"resource": true, "name": "fake"}`)
	write("plain_lib-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: plain-lib\nVersion: 0.1\n")
	cmd := exec.Command(python, "-c", installedPackages)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct{ Name, Version, Plugin string }
	if err := json.Unmarshal(out, &listed); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	byName := map[string]struct{ Name, Version, Plugin string }{}
	for _, pkg := range listed {
		byName[pkg.Name] = pkg
	}
	if got := byName["pulumi-fake"]; got.Version != "1.2.3" || got.Plugin != filepath.Join(dir, "pulumi_fake", "pulumi-plugin.json") {
		t.Errorf("pulumi-fake: got %+v", got)
	}
	if got, ok := byName["plain-lib"]; !ok || got.Plugin != "" {
		t.Errorf("plain-lib: got %+v (listed: %v)", got, ok)
	}
}
