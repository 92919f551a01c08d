package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// Packages named pulumi-* that are known to have no resource plugin.
var withoutPlugin = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

// installedPackages prints, as JSON, every distribution installed where the program's Python
// imports from: its normalised name, version, and the path of the pulumi-plugin.json at the top
// of its import package ("" when there is none; the package's directory is looked in rather than
// the distribution's file list, so editable installs count too). It is `pip list`, as the SDK's
// toolchain would run it, and the file look-up in one interpreter: pip's own start-up is about
// half a second, paid on every preview and update.
const installedPackages = `import importlib.metadata, importlib.util, json, os, re, sys
found, seen = [], set()
for dist in importlib.metadata.distributions(path=[p for p in sys.path if p]):
    name = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
    if not name or name in seen:
        continue
    seen.add(name)
    plugin, looked = "", []
    try:
        spec = importlib.util.find_spec(name.replace("-", "_"))
    except Exception:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        looked.append(str(location))
        path = os.path.join(str(location), "pulumi-plugin.json")
        if os.path.isfile(path):
            plugin = path
            break
    found.append({"name": name, "version": dist.version, "plugin": plugin, "looked": looked})
print(json.dumps(found))`

// installedPackage is one distribution as installedPackages prints it.
type installedPackage struct {
	Name, Version, Plugin string
	Looked                []string // the directories searched for pulumi-plugin.json
}

// requiredPackages lists the resource plugins of the Pulumi packages installed in the
// toolchain's environment: a package is one if it ships pulumi-plugin.json or is named
// pulumi-*; `"resource": false` in that file says it needs no plugin. The list of
// distributions is the memo's (memo.go) while the environment is unchanged.
func requiredPackages(
	ctx context.Context, tc toolchain.Toolchain, memo *memo,
) ([]*pulumirpc.PackageDependency, error) {
	var installed []installedPackage
	err := memo.answer("installed packages", &installed, func() (any, []string, error) {
		listed, err := listInstalled(ctx, tc)
		var watched []string
		for _, pkg := range listed {
			watched = append(watched, pkg.Looked...)
			if pkg.Plugin != "" {
				watched = append(watched, pkg.Plugin)
			}
		}
		return listed, watched, err
	})
	if err != nil {
		return nil, err
	}

	packages := []*pulumirpc.PackageDependency{}
	for _, pkg := range installed {
		var meta *plugin.PulumiPluginJSON
		if pkg.Plugin != "" {
			data, err := os.ReadFile(pkg.Plugin)
			if err != nil {
				return nil, err
			}
			meta = &plugin.PulumiPluginJSON{}
			if err := json.Unmarshal(data, meta); err != nil {
				return nil, fmt.Errorf("%s: %w", pkg.Plugin, err)
			}
		}
		if dep := packageDependency(plugin.DependencyInfo{Name: pkg.Name, Version: pkg.Version}, meta); dep != nil {
			packages = append(packages, dep)
		}
	}
	return packages, nil
}

// packageDependency is the plugin that one installed package needs, or nil for none.
func packageDependency(pkg plugin.DependencyInfo, meta *plugin.PulumiPluginJSON) *pulumirpc.PackageDependency {
	if withoutPlugin[pkg.Name] || (meta == nil && !strings.HasPrefix(pkg.Name, "pulumi-")) {
		return nil
	}
	dep := &pulumirpc.PackageDependency{Kind: "resource"}
	if meta != nil {
		if !meta.Resource {
			return nil
		}
		dep.Name, dep.Version, dep.Server = meta.Name, meta.Version, meta.Server
		dep.Parameterization = parameterization(meta.Parameterization)
		dep.Extension = parameterization(meta.ExtensionParameterization)
	}
	if dep.Name == "" {
		dep.Name = strings.TrimPrefix(pkg.Name, "pulumi-")
	}
	if dep.Version == "" {
		version, ok := pluginVersion(pkg.Version)
		if !ok {
			return nil // an alpha build's plugin version cannot be derived: let the engine ask at run time
		}
		dep.Version = version
	}
	if !strings.HasPrefix(dep.Version, "v") {
		dep.Version = "v" + dep.Version
	}
	return dep
}

func parameterization(p *plugin.PulumiParameterizationJSON) *pulumirpc.PackageParameterization {
	if p == nil {
		return nil
	}
	return &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
}

var pep440 = regexp.MustCompile(`^v?(\d+(?:\.\d+){0,2})(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$`)

// pluginVersion turns a Python package version (PEP 440) into the semver of its plugin:
// 1.2 -> 1.2.0, 1.2.3a4 -> 1.2.3-alpha.4, 1.2.3rc1 -> 1.2.3-rc.1, 1.2.3.post4.dev5 -> 1.2.3+post4dev5.
func pluginVersion(pythonVersion string) (string, bool) {
	m := pep440.FindStringSubmatch(pythonVersion)
	if m == nil {
		return "", false
	}
	release := strings.Split(m[1], ".")
	for len(release) < 3 {
		release = append(release, "0")
	}
	version := strings.Join(release, ".")
	if m[2] != "" {
		version += "-" + map[string]string{"a": "alpha", "b": "beta", "rc": "rc"}[m[2]] + "." + m[3]
	}
	build := ""
	if m[4] != "" {
		build += "post" + m[4]
	}
	if m[5] != "" {
		build += "dev" + m[5]
	}
	if build != "" {
		version += "+" + build
	}
	return version, true
}

// listInstalled runs installedPackages in the toolchain's interpreter.
func listInstalled(ctx context.Context, tc toolchain.Toolchain) ([]installedPackage, error) {
	cmd, err := tc.Command(ctx, "-c", installedPackages)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("could not list the Python packages: %w", err)
	}
	var installed []installedPackage
	if err := json.Unmarshal(out, &installed); err != nil {
		return nil, fmt.Errorf("could not read the list of Python packages: %w", err)
	}
	return installed, nil
}
