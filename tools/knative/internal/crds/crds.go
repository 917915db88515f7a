// Package crds builds the CustomResourceDefinitions pipeline-events needs from Knative: Serving's
// Service and eventing-kafka-broker's KafkaSource and KafkaSink.
//
// Schemas come from Knative's Go types (package schema); names, versions, scope, short names,
// categories, labels, subresources and printer columns are copied from the CRDs shipped in the
// modules' config/ folders (serving config/core/300-resources/service.yaml, eventing-kafka-broker
// control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml and
// 100-sink/100-kafka-sink.yaml), which crds_test.go compares against.
//
// Deliberate differences from the shipped CRDs (a test cluster without Knative's controllers and
// webhooks):
//   - KafkaSource's conversion strategy is None, not Webhook: no conversion webhook runs here. Its
//     two versions differ only by v1's two extra SASL fields, so None round-trips every object
//     that does not use them.
//   - No descriptions; no x-kubernetes-list-type/map-type; no `default` values (the shipped
//     KafkaSink schema defaults contentMode to binary; here Knative's SetDefaults in
//     knative-validate does that).
//   - The Service's PodSpec is the whole Kubernetes PodSpec; Serving prunes its CRD to the fields
//     its webhook allows and leaves feature-gated ones (affinity, securityContext, …) open with
//     x-kubernetes-preserve-unknown-fields. Fields Serving forbids are therefore stored by this
//     CRD and rejected by knative-validate, which runs Serving's own field masks.
//   - Required fields: see package schema (PodSpec's `containers` is not required here).
//   - Map-valued status annotations have string values, where the shipped KafkaSink leaves them
//     open with x-kubernetes-preserve-unknown-fields.
package crds

import (
	"fmt"
	"runtime/debug"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	sinksv1alpha1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/eventing/v1alpha1"
	sourcesv1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/sources/v1"
	sourcesv1beta1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/sources/v1beta1"

	"pipeline-events/tools/knative/internal/schema"
)

// Definition is one CRD: what the shipped YAML says, plus the Go type of each version.
type Definition struct {
	Group      string
	Kind       string
	Plural     string
	Singular   string
	ShortNames []string
	Categories []string
	Labels     map[string]string
	// Module is the Go module whose types and config/ the CRD comes from.
	Module   string
	Versions []Version
}

// Version is one served version of a Definition.
type Version struct {
	Name    string
	Storage bool
	// Object is a pointer to the version's Go type, e.g. &servingv1.Service{}.
	Object  any
	Columns []apiextensionsv1.CustomResourceColumnDefinition
	Scale   *apiextensionsv1.CustomResourceSubresourceScale
}

var (
	readyColumn  = column("Ready", "string", `.status.conditions[?(@.type=="Ready")].status`)
	reasonColumn = column("Reason", "string", `.status.conditions[?(@.type=="Ready")].reason`)
	ageColumn    = column("Age", "date", ".metadata.creationTimestamp")
)

func column(name, typ, path string) apiextensionsv1.CustomResourceColumnDefinition {
	return apiextensionsv1.CustomResourceColumnDefinition{Name: name, Type: typ, JSONPath: path}
}

// Definitions lists the CRDs in the order they are printed.
func Definitions() []Definition {
	return []Definition{serviceDefinition(), kafkaSourceDefinition(), kafkaSinkDefinition()}
}

func serviceDefinition() Definition {
	return Definition{
		Group: "serving.knative.dev", Kind: "Service", Plural: "services", Singular: "service",
		ShortNames: []string{"kservice", "ksvc"},
		Categories: []string{"all", "knative", "serving"},
		Labels: map[string]string{
			"knative.dev/crd-install":      "true",
			"duck.knative.dev/addressable": "true",
			"duck.knative.dev/podspecable": "true",
		},
		Module: "knative.dev/serving",
		Versions: []Version{{
			Name: "v1", Storage: true, Object: &servingv1.Service{},
			Columns: []apiextensionsv1.CustomResourceColumnDefinition{
				column("URL", "string", ".status.url"),
				column("LatestCreated", "string", ".status.latestCreatedRevisionName"),
				column("LatestReady", "string", ".status.latestReadyRevisionName"),
				readyColumn, reasonColumn,
			},
		}},
	}
}

func kafkaSourceDefinition() Definition {
	columns := []apiextensionsv1.CustomResourceColumnDefinition{
		column("Topics", "string", ".spec.topics"),
		column("BootstrapServers", "string", ".spec.bootstrapServers"),
		readyColumn, reasonColumn, ageColumn,
	}
	// The scale subresource lets `kubectl scale` (and KEDA) set the number of consumers.
	scale := &apiextensionsv1.CustomResourceSubresourceScale{
		SpecReplicasPath:   ".spec.consumers",
		StatusReplicasPath: ".status.consumers",
		LabelSelectorPath:  ptr(".status.selector"),
	}
	return Definition{
		Group: "sources.knative.dev", Kind: "KafkaSource", Plural: "kafkasources", Singular: "kafkasource",
		Categories: []string{"all", "knative", "eventing", "sources"},
		Labels: map[string]string{
			"knative.dev/crd-install":     "true",
			"eventing.knative.dev/source": "true",
			"duck.knative.dev/source":     "true",
		},
		Module: "knative.dev/eventing-kafka-broker",
		// v1beta1 is still the storage version in v0.50 (v1 is served since Knative 1.16).
		Versions: []Version{
			{Name: "v1beta1", Storage: true, Object: &sourcesv1beta1.KafkaSource{}, Columns: columns, Scale: scale},
			{Name: "v1", Storage: false, Object: &sourcesv1.KafkaSource{}, Columns: columns, Scale: scale},
		},
	}
}

func kafkaSinkDefinition() Definition {
	return Definition{
		Group: "eventing.knative.dev", Kind: "KafkaSink", Plural: "kafkasinks", Singular: "kafkasink",
		Categories: []string{"all", "knative", "eventing"},
		Labels: map[string]string{
			"knative.dev/crd-install":      "true",
			"duck.knative.dev/addressable": "true",
		},
		Module: "knative.dev/eventing-kafka-broker",
		Versions: []Version{{
			Name: "v1alpha1", Storage: true, Object: &sinksv1alpha1.KafkaSink{},
			Columns: []apiextensionsv1.CustomResourceColumnDefinition{
				column("URL", "string", ".status.address.url"),
				ageColumn, readyColumn, reasonColumn,
			},
		}},
	}
}

// Build makes the CRD of a Definition, generating each version's schema from its Go type.
func Build(d Definition) (*apiextensionsv1.CustomResourceDefinition, error) {
	versions := make([]apiextensionsv1.CustomResourceDefinitionVersion, 0, len(d.Versions))
	for _, v := range d.Versions {
		props, err := schema.ForObject(v.Object)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", d.Kind, v.Name, err)
		}
		versions = append(versions, apiextensionsv1.CustomResourceDefinitionVersion{
			Name: v.Name, Served: true, Storage: v.Storage,
			Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: props},
			Subresources: &apiextensionsv1.CustomResourceSubresources{
				Status: &apiextensionsv1.CustomResourceSubresourceStatus{},
				Scale:  v.Scale,
			},
			AdditionalPrinterColumns: v.Columns,
		})
	}
	return &apiextensionsv1.CustomResourceDefinition{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        d.Plural + "." + d.Group,
			Labels:      d.Labels,
			Annotations: map[string]string{"pipeline-events.dev/generated-from": moduleVersion(d.Module)},
		},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: d.Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Kind: d.Kind, ListKind: d.Kind + "List", Plural: d.Plural, Singular: d.Singular,
				ShortNames: d.ShortNames, Categories: d.Categories,
			},
			Scope:      apiextensionsv1.NamespaceScoped,
			Versions:   versions,
			Conversion: &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter},
		},
	}, nil
}

// BuildAll builds every Definition.
func BuildAll() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	defs := Definitions()
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(defs))
	for _, d := range defs {
		crd, err := Build(d)
		if err != nil {
			return nil, err
		}
		out = append(out, crd)
	}
	return out, nil
}

// moduleVersion is "module@version" as linked into this binary, so a stored CRD tells which
// Knative release its schema came from.
func moduleVersion(module string) string {
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				return module + "@" + dep.Version
			}
		}
	}
	return module
}

func ptr[T any](v T) *T { return &v }
