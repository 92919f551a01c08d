// Webhooks from TypeScript: the program, and a small deployment driver on the Automation API
// (an inline program needs no Node.js language host; the CLI runs it through the driver).
//
//     node bin/index.js up|preview|refresh|destroy     # in the project directory WEBHOOKS_PROJECT_DIR
//
// The stack is `dev` of the backend PULUMI_BACKEND_URL; the `webhooks` plugin is the one in
// WEBHOOKS_PLUGIN_DIR (where `pip install pulumi-webhooks` put `pulumi-resource-webhooks`).
// The API's URL and credentials, and the hooks' secrets, are stack config (`pulumi config set`).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as webhooks from "@pulumi-webhooks/webhooks";

async function program(): Promise<Record<string, pulumi.Output<unknown>>> {
    const config = new pulumi.Config();
    const version = config.get("endpointVersion") ?? "v1";
    const alerts = new webhooks.Webhook("alerts", {
        endpoint: `https://ops.example.com/${version}/alerts`,
        authType: webhooks.AuthType.Bearer,
        token: config.requireSecret("hookToken"),
        isAlertHook: true,
    });
    const fleet = new webhooks.WebhookFleet("teams", {
        hooks: {
            "ops/pager": { endpoint: `https://ops.example.com/${version}/pager`, authType: webhooks.AuthType.Bearer },
            "growth/signups": { endpoint: "https://growth.example.com/signups", authType: webhooks.AuthType.None },
        },
        secrets: { "ops/pager": { token: config.requireSecret("hookToken") } },
    });
    const outputs: Record<string, pulumi.Output<unknown>> = { alertsId: alerts.webhookId, teamIds: fleet.webhookIds };
    // A webhook made outside Pulumi, taken under management by its id.
    const legacyId = config.get("legacyId");
    if (legacyId) {
        const legacy = new webhooks.Webhook(
            "legacy",
            { endpoint: "https://legacy.example.com/hook", authType: webhooks.AuthType.None },
            { import: legacyId },
        );
        outputs.legacyId = legacy.webhookId;
    }
    return outputs;
}

async function main(command: string): Promise<void> {
    const workDir = process.env.WEBHOOKS_PROJECT_DIR ?? process.cwd();
    const pluginDir = process.env.WEBHOOKS_PLUGIN_DIR;
    if (!pluginDir) {
        throw new Error("set WEBHOOKS_PLUGIN_DIR to the directory of pulumi-resource-webhooks");
    }
    // The project's settings, with the plugin's directory (the SDK's ProjectSettings type has no `plugins`).
    const settings = [
        "name: webhooks-typescript",
        "runtime: nodejs",
        "plugins:",
        "  providers:",
        "    - name: webhooks",
        `      path: ${JSON.stringify(pluginDir)}`,
        "",
    ];
    writeFileSync(join(workDir, "Pulumi.yaml"), settings.join("\n"));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: "dev", projectName: "webhooks-typescript", program },
        { workDir },
    );
    const onOutput = (line: string) => process.stderr.write(line);
    switch (command) {
        case "up": {
            const result = await stack.up({ onOutput });
            console.log(JSON.stringify({ changes: result.summary.resourceChanges, outputs: result.outputs }));
            break;
        }
        case "preview": {
            const result = await stack.preview({ onOutput });
            console.log(JSON.stringify({ changes: result.changeSummary }));
            break;
        }
        case "refresh": {
            const result = await stack.refresh({ onOutput });
            console.log(JSON.stringify({ changes: result.summary.resourceChanges }));
            break;
        }
        case "destroy": {
            const result = await stack.destroy({ onOutput });
            console.log(JSON.stringify({ changes: result.summary.resourceChanges }));
            break;
        }
        default:
            throw new Error(`unknown command ${command}: up, preview, refresh or destroy`);
    }
}

main(process.argv[2] ?? "up").catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
