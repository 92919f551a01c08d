// Webhooks from Go: the program, and a small deployment driver on the Automation API (an inline
// program runs in this process: no Go language host).
//
//	bin/webhooks-go up|preview|refresh|destroy     # built as docs/languages.md says
//
// The stack is `dev` of the backend PULUMI_BACKEND_URL, in the project directory
// WEBHOOKS_PROJECT_DIR (the driver writes its Pulumi.yaml there); the `webhooks` plugin is the
// one in WEBHOOKS_PLUGIN_DIR (where `pip install pulumi-webhooks` put `pulumi-resource-webhooks`).
// The API's URL and credentials, and the hooks' secrets, are stack config (`pulumi config set`).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/pulumi-webhooks/webhooks/sdk/go/webhooks"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	version := cfg.Get("endpointVersion")
	if version == "" {
		version = "v1"
	}
	alerts, err := webhooks.NewWebhook(ctx, "alerts", &webhooks.WebhookArgs{
		Endpoint:    pulumi.String("https://ops.example.com/" + version + "/alerts"),
		AuthType:    webhooks.AuthTypeBearer,
		Token:       cfg.RequireSecret("hookToken"),
		IsAlertHook: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}
	fleet, err := webhooks.NewWebhookFleet(ctx, "teams", &webhooks.WebhookFleetArgs{
		Hooks: webhooks.FleetHookMap{
			"ops/pager": webhooks.FleetHookArgs{
				Endpoint: pulumi.String("https://ops.example.com/" + version + "/pager"),
				AuthType: webhooks.AuthTypeBearer,
			},
			"growth/signups": webhooks.FleetHookArgs{
				Endpoint: pulumi.String("https://growth.example.com/signups"),
				AuthType: webhooks.AuthTypeNone,
			},
		},
		Secrets: webhooks.FleetHookSecretsMap{
			"ops/pager": webhooks.FleetHookSecretsArgs{Token: cfg.RequireSecret("hookToken")},
		},
	})
	if err != nil {
		return err
	}
	ctx.Export("alertsId", alerts.WebhookId)
	ctx.Export("teamIds", fleet.WebhookIds)
	// A webhook made outside Pulumi, taken under management by its id.
	if legacyID := cfg.Get("legacyId"); legacyID != "" {
		legacy, err := webhooks.NewWebhook(ctx, "legacy", &webhooks.WebhookArgs{
			Endpoint: pulumi.String("https://legacy.example.com/hook"),
			AuthType: webhooks.AuthTypeNone,
		}, pulumi.Import(pulumi.ID(legacyID)))
		if err != nil {
			return err
		}
		ctx.Export("legacyId", legacy.WebhookId)
	}
	return nil
}

// summary is what the driver prints: the changes by kind, and the stack's outputs.
type summary struct {
	Changes any                       `json:"changes"`
	Outputs map[string]map[string]any `json:"outputs,omitempty"`
}

func run(ctx context.Context, command string) (summary, error) {
	workDir := os.Getenv("WEBHOOKS_PROJECT_DIR")
	if workDir == "" {
		return summary{}, errors.New("set WEBHOOKS_PROJECT_DIR to the stack's project directory")
	}
	pluginDir := os.Getenv("WEBHOOKS_PLUGIN_DIR")
	if pluginDir == "" {
		return summary{}, errors.New("set WEBHOOKS_PLUGIN_DIR to the directory of pulumi-resource-webhooks")
	}
	project := workspace.Project{
		Name:    tokens.PackageName("webhooks-go"),
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Plugins: &workspace.Plugins{Providers: []workspace.PluginOptions{{Name: "webhooks", Path: pluginDir}}},
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "webhooks-go", program,
		auto.WorkDir(workDir), auto.Project(project))
	if err != nil {
		return summary{}, err
	}
	switch command {
	case "up":
		result, err := stack.Up(ctx, optup.ProgressStreams(os.Stderr))
		if err != nil {
			return summary{}, err
		}
		outputs := map[string]map[string]any{}
		for name, output := range result.Outputs {
			outputs[name] = map[string]any{"value": output.Value, "secret": output.Secret}
		}
		return summary{Changes: result.Summary.ResourceChanges, Outputs: outputs}, nil
	case "preview":
		result, err := stack.Preview(ctx, optpreview.ProgressStreams(os.Stderr))
		return summary{Changes: result.ChangeSummary}, err
	case "refresh":
		result, err := stack.Refresh(ctx, optrefresh.ProgressStreams(os.Stderr))
		return summary{Changes: result.Summary.ResourceChanges}, err
	case "destroy":
		result, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr))
		return summary{Changes: result.Summary.ResourceChanges}, err
	}
	return summary{}, fmt.Errorf("unknown command %s: up, preview, refresh or destroy", command)
}

func main() {
	command := "up"
	if len(os.Args) > 1 {
		command = os.Args[1]
	}
	result, err := run(context.Background(), command)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
