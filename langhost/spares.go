package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"pulumi-webhooks/langhost/spare"
)

// startSpare starts, once, the dynamic provider the engine will ask for when a program registers
// its first resource, launched as the engine would launch it: its environment for plugins is this
// host's, with the project's runtime options, its name and the provider's config (none) added.
// A launch whose environment differs (a stack with `pulumi-python:` config, say) does not take
// it, and a spare that cannot start is no error: the engine then starts the provider itself.
// `project` is read from Pulumi.yaml when empty.
func (h *host) startSpare(info *pulumirpc.ProgramInfo, project string) {
	if info == nil {
		return
	}
	h.spareOnce.Do(func() {
		if project == "" {
			project = projectName(info.GetRootDirectory())
		}
		added := map[string]string{"PULUMI_PROJECT": project, "PULUMI_CONFIG": "{}"}
		for key, value := range info.GetOptions().AsMap() {
			added["PULUMI_RUNTIME_"+strings.ToUpper(key)] = fmt.Sprintf("%v", value)
		}
		env := make([]string, 0, len(os.Environ())+len(added))
		for _, kv := range os.Environ() {
			if key, _, _ := strings.Cut(kv, "="); !has(added, key) {
				env = append(env, kv)
			}
		}
		for key, value := range added {
			env = append(env, key+"="+value)
		}
		launch, err := spare.Here() // the engine starts its plugins where it starts this host
		if project == "" || err != nil {
			return
		}
		launch.Env, launch.Pass = env, 1
		_ = spare.Ensure(launch)
	})
}

// projectName is the name in the Pulumi.yaml of `root`, or "".
func projectName(root string) string {
	for _, file := range []string{"Pulumi.yaml", "Pulumi.yml"} {
		if project, err := workspace.LoadProject(filepath.Join(root, file)); err == nil {
			return project.Name.String()
		}
	}
	return ""
}

func has(values map[string]string, key string) bool {
	_, ok := values[key]
	return ok
}
