package crds

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"sigs.k8s.io/yaml"
)

// shippedFiles are the CRDs in the modules' config/ folders, relative to each module's root.
var shippedFiles = map[string]string{
	"services.serving.knative.dev":     "config/core/300-resources/service.yaml",
	"kafkasources.sources.knative.dev": "control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml",
	"kafkasinks.eventing.knative.dev":  "control-plane/config/eventing-kafka-broker/100-sink/100-kafka-sink.yaml",
}

// TestAPIServerAcceptsCRDs runs the API server's own CRD validation (structural schema, printer
// columns, subresources) on each generated CRD.
func TestAPIServerAcceptsCRDs(t *testing.T) {
	for _, crd := range buildAll(t) {
		var internal apiextensions.CustomResourceDefinition
		if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(crd, &internal, nil); err != nil {
			t.Fatalf("%s: converting: %v", crd.Name, err)
		}
		// The API server records the storage version on create, before it validates.
		for _, v := range internal.Spec.Versions {
			if v.Storage {
				internal.Status.StoredVersions = []string{v.Name}
			}
		}
		if errs := validation.ValidateCustomResourceDefinition(context.Background(), &internal); len(errs) > 0 {
			t.Errorf("%s: the API server would reject it: %v", crd.Name, errs.ToAggregate())
		}
	}
}

// TestMatchesShippedCRDs compares each generated CRD with the one Knative ships: same names,
// versions, scope and subresources, and every schema field Knative declares is present (the
// generated schemas may have more: see the package comment).
func TestMatchesShippedCRDs(t *testing.T) {
	modules := map[string]string{}
	for _, d := range Definitions() {
		modules[d.Plural+"."+d.Group] = d.Module
	}
	for _, crd := range buildAll(t) {
		shipped := readShipped(t, modules[crd.Name], shippedFiles[crd.Name])
		if !reflect.DeepEqual(crd.Spec.Names.ShortNames, shipped.Spec.Names.ShortNames) ||
			!reflect.DeepEqual(crd.Spec.Names.Categories, shipped.Spec.Names.Categories) ||
			crd.Spec.Names.Kind != shipped.Spec.Names.Kind || crd.Spec.Names.Plural != shipped.Spec.Names.Plural {
			t.Errorf("%s: names %+v, shipped %+v", crd.Name, crd.Spec.Names, shipped.Spec.Names)
		}
		if crd.Spec.Scope != shipped.Spec.Scope || crd.Spec.Group != shipped.Spec.Group {
			t.Errorf("%s: group/scope %s/%s, shipped %s/%s", crd.Name, crd.Spec.Group, crd.Spec.Scope, shipped.Spec.Group, shipped.Spec.Scope)
		}
		compareVersions(t, crd, shipped)
	}
}

func compareVersions(t *testing.T, crd, shipped *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	if len(crd.Spec.Versions) != len(shipped.Spec.Versions) {
		t.Errorf("%s: %d versions, shipped %d", crd.Name, len(crd.Spec.Versions), len(shipped.Spec.Versions))
	}
	for _, want := range shipped.Spec.Versions {
		got := findVersion(crd, want.Name)
		if got == nil {
			t.Errorf("%s: version %s missing", crd.Name, want.Name)
			continue
		}
		if got.Served != want.Served || got.Storage != want.Storage {
			t.Errorf("%s %s: served/storage %v/%v, shipped %v/%v", crd.Name, want.Name, got.Served, got.Storage, want.Served, want.Storage)
		}
		if !reflect.DeepEqual(got.Subresources, want.Subresources) {
			t.Errorf("%s %s: subresources %+v, shipped %+v", crd.Name, want.Name, got.Subresources, want.Subresources)
		}
		if columnNames(got) != columnNames(&want) {
			t.Errorf("%s %s: printer columns %s, shipped %s", crd.Name, want.Name, columnNames(got), columnNames(&want))
		}
		missing := missingPaths(fieldPaths(want.Schema.OpenAPIV3Schema), fieldPaths(got.Schema.OpenAPIV3Schema))
		if len(missing) > 0 {
			t.Errorf("%s %s: fields in the shipped schema but not generated: %v", crd.Name, want.Name, missing)
		}
	}
}

func buildAll(t *testing.T) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	all, err := BuildAll()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func readShipped(t *testing.T, module, file string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		t.Fatalf("locating %s: %v", module, err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), file))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &crd
}

func findVersion(crd *apiextensionsv1.CustomResourceDefinition, name string) *apiextensionsv1.CustomResourceDefinitionVersion {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			return &crd.Spec.Versions[i]
		}
	}
	return nil
}

func columnNames(v *apiextensionsv1.CustomResourceDefinitionVersion) string {
	names := make([]string, 0, len(v.AdditionalPrinterColumns))
	for _, c := range v.AdditionalPrinterColumns {
		names = append(names, c.Name+"="+c.Type)
	}
	return strings.Join(names, ",")
}

// fieldPaths lists every property path of a schema: ".spec.topics[]", ".metadata.labels{}", ….
func fieldPaths(s *apiextensionsv1.JSONSchemaProps) map[string]bool {
	paths := map[string]bool{}
	var walk func(*apiextensionsv1.JSONSchemaProps, string)
	walk = func(n *apiextensionsv1.JSONSchemaProps, path string) {
		paths[path] = true
		for name, child := range n.Properties {
			walk(&child, path+"."+name)
		}
		if n.Items != nil && n.Items.Schema != nil {
			walk(n.Items.Schema, path+"[]")
		}
	}
	walk(s, "")
	return paths
}

func missingPaths(want, got map[string]bool) []string {
	var missing []string
	for path := range want {
		if !got[path] {
			missing = append(missing, path)
		}
	}
	sort.Strings(missing)
	return missing
}
