package main

import (
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/protobuf/types/known/structpb"
)

func info(t *testing.T, options map[string]any) *pulumirpc.ProgramInfo {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.ProgramInfo{RootDirectory: "/p", ProgramDirectory: "/p/src", Options: opts}
}

func TestPythonOptionsReadPulumiYaml(t *testing.T) {
	opts, err := pythonOptions(info(t, map[string]any{
		"virtualenv": "venv", "toolchain": "uv", "typechecker": "pyright",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	// The toolchain package joins Virtualenv to Root, the directory of Pulumi.yaml.
	if opts.Root != "/p" || opts.Virtualenv != "venv" || opts.Toolchain != toolchain.Uv ||
		opts.Typechecker != toolchain.TypeCheckerPyright {
		t.Errorf("got %+v", opts)
	}

	none, err := pythonOptions(info(t, map[string]any{}), false)
	if err != nil || none.Toolchain != toolchain.Auto || none.Virtualenv != "" {
		t.Errorf("no options: got %+v, %v", none, err)
	}
	plugin, _ := pythonOptions(info(t, map[string]any{}), true)
	if plugin.Virtualenv != "venv" {
		t.Errorf("a plugin gets a venv of its own: got %q", plugin.Virtualenv)
	}
}

func TestPythonOptionsRefuseWhatTheyCannotUse(t *testing.T) {
	for want, options := range map[string]map[string]any{
		`unsupported toolchain option "conda" in Pulumi.yaml: use pip, poetry, uv`: {"toolchain": "conda"},
		`unsupported typechecker option "pytype"`:                                  {"typechecker": "pytype"},
		"the virtualenv option in Pulumi.yaml must be a string":                    {"virtualenv": 3.0},
	} {
		_, err := pythonOptions(info(t, options), false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want %q", options, err, want)
		}
	}
}
