"""The `pulumi-webhooks` command line: each command, and the wrapper of the `pulumi` CLI it drives.
Only the commands that read Pulumi state load the Pulumi SDK."""
