// Package schema turns Knative's Go API types into structural OpenAPI v3 schemas for CRDs.
//
// Knative generates its CRD schemas from the same Go types, but with tools we cannot use here:
// Serving runs controller-gen (which parses the Go sources for markers and doc comments) plus its
// own schema-tweak pass, eventing-kafka-broker writes its schemas by hand, and the reflection-based
// generator in knative.dev/hack/schema is deprecated and not fetchable from the module proxy (its
// version metadata answers 404). So this package walks the types with reflection, following
// encoding/json's rules, which is what the API server's stored JSON and Knative's decoders follow.
//
// What reflection cannot see is written down instead of guessed:
//   - No descriptions (doc comments are not in the binary).
//   - A field is required only when Knative itself declares it so the only way it can in the type:
//     a string or slice field without `omitempty` in a knative.dev package. Kubernetes' own types
//     (the PodSpec inside a Revision) mark optional fields with `+optional` comments, invisible
//     here, so none of their fields is required; Knative's webhooks check them anyway.
//   - No list-type/map-type markers (they only change server-side-apply merging).
//   - Types that marshal themselves must be listed in selfMarshalers; an unknown one is an error,
//     so a dependency bump that adds one fails the generator instead of emitting a wrong schema.
package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"knative.dev/pkg/apis"
)

// Props is the schema node type the CRD API uses.
type Props = apiextensionsv1.JSONSchemaProps

// quantityPattern is the pattern controller-gen (and so Knative's Serving CRD) puts on Quantity.
const quantityPattern = `^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`

var (
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
	objectMetaType  = reflect.TypeFor[metav1.ObjectMeta]()
	selfMarshalers  = map[reflect.Type]func() Props{}
	preserveUnknown = true
)

func init() {
	dateTime := func() Props { return Props{Type: "string", Format: "date-time"} }
	plainString := func() Props { return Props{Type: "string"} }
	intOrString := func() Props {
		return Props{
			XIntOrString: true,
			AnyOf:        []Props{{Type: "integer"}, {Type: "string"}},
		}
	}
	selfMarshalers[reflect.TypeFor[metav1.Time]()] = dateTime
	selfMarshalers[reflect.TypeFor[metav1.MicroTime]()] = dateTime
	// Knative's CRDs give condition times no format: VolatileTime is a plain string there.
	selfMarshalers[reflect.TypeFor[apis.VolatileTime]()] = plainString
	selfMarshalers[reflect.TypeFor[apis.URL]()] = plainString
	selfMarshalers[reflect.TypeFor[metav1.Duration]()] = plainString
	selfMarshalers[reflect.TypeFor[intstr.IntOrString]()] = intOrString
	selfMarshalers[reflect.TypeFor[resource.Quantity]()] = func() Props {
		p := intOrString()
		p.Pattern = quantityPattern
		return p
	}
	selfMarshalers[reflect.TypeFor[runtime.RawExtension]()] = func() Props {
		return Props{Type: "object", XPreserveUnknownFields: &preserveUnknown}
	}
}

// ForObject is the schema of a top-level API object: its fields (spec, status) from its Go type,
// with apiVersion, kind and a bare metadata object as in every CRD (the API server owns metadata).
func ForObject(object any) (*Props, error) {
	t := reflect.TypeOf(object)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	g := generator{}
	root, err := g.structSchema(t)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", t, err)
	}
	root.Properties["apiVersion"] = Props{Type: "string"}
	root.Properties["kind"] = Props{Type: "string"}
	root.Properties["metadata"] = Props{Type: "object"}
	return &root, nil
}

// generator remembers the struct types on the current path: the API types have no cycles, and a
// cycle would need a hand-made decision (a schema cannot recurse).
type generator struct {
	path []reflect.Type
}

func (g *generator) schema(t reflect.Type) (Props, error) {
	if describe, ok := selfMarshalers[t]; ok {
		return describe(), nil
	}
	if t.Kind() != reflect.Pointer && (t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler)) {
		return Props{}, fmt.Errorf("%s marshals itself to JSON: add it to selfMarshalers", t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return Props{Type: "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return Props{Type: "integer", Format: "int32"}, nil
	case reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return Props{Type: "integer", Format: "int64"}, nil
	case reflect.Float32, reflect.Float64:
		return Props{Type: "number"}, nil
	case reflect.String:
		return Props{Type: "string"}, nil
	case reflect.Pointer:
		return g.schema(t.Elem())
	case reflect.Slice:
		return g.sliceSchema(t)
	case reflect.Map:
		return g.mapSchema(t)
	case reflect.Struct:
		return g.nestedStructSchema(t)
	case reflect.Interface:
		// Any JSON value: only preserving unknown fields keeps a schema structural here.
		return Props{XPreserveUnknownFields: &preserveUnknown}, nil
	default:
		return Props{}, fmt.Errorf("cannot describe %s (kind %s) in a CRD schema", t, t.Kind())
	}
}

func (g *generator) sliceSchema(t reflect.Type) (Props, error) {
	// encoding/json writes []byte as base64.
	if t.Elem().Kind() == reflect.Uint8 {
		return Props{Type: "string", Format: "byte"}, nil
	}
	items, err := g.schema(t.Elem())
	if err != nil {
		return Props{}, err
	}
	return Props{Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &items}}, nil
}

func (g *generator) mapSchema(t reflect.Type) (Props, error) {
	if t.Key().Kind() != reflect.String {
		return Props{}, fmt.Errorf("map %s: JSON object keys must be strings", t)
	}
	values, err := g.schema(t.Elem())
	if err != nil {
		return Props{}, err
	}
	return Props{
		Type:                 "object",
		AdditionalProperties: &apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: &values},
	}, nil
}

func (g *generator) nestedStructSchema(t reflect.Type) (Props, error) {
	if t == objectMetaType {
		return embeddedObjectMeta(), nil
	}
	for _, seen := range g.path {
		if seen == t {
			return Props{}, fmt.Errorf("%s contains itself", t)
		}
	}
	g.path = append(g.path, t)
	defer func() { g.path = g.path[:len(g.path)-1] }()
	return g.structSchema(t)
}

// embeddedObjectMeta is the metadata of an object template (a Revision template): what
// controller-gen's generateEmbeddedObjectMeta emits, left open as Knative's Serving CRD does.
func embeddedObjectMeta() Props {
	stringMap := Props{
		Type:                 "object",
		AdditionalProperties: &apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: &Props{Type: "string"}},
	}
	return Props{
		Type:                   "object",
		XPreserveUnknownFields: &preserveUnknown,
		Properties: map[string]Props{
			"annotations": stringMap,
			"labels":      stringMap,
			"finalizers": {
				Type:  "array",
				Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &Props{Type: "string"}},
			},
			"name":      {Type: "string"},
			"namespace": {Type: "string"},
		},
	}
}

func (g *generator) structSchema(t reflect.Type) (Props, error) {
	s := Props{Type: "object", Properties: map[string]Props{}}
	for i := range t.NumField() {
		if err := g.addField(&s, t, t.Field(i)); err != nil {
			return Props{}, err
		}
	}
	return s, nil
}

// addField follows encoding/json: `json:"-"` and unexported fields are skipped, an embedded
// struct without a JSON name is inlined.
func (g *generator) addField(s *Props, owner reflect.Type, f reflect.StructField) error {
	tag := parseTag(f.Tag.Get("json"))
	if tag.skip || (!f.IsExported() && !f.Anonymous) {
		return nil
	}
	fs, err := g.schema(f.Type)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", owner.Name(), f.Name, err)
	}
	if f.Anonymous && tag.name == "" && fs.Type == "object" {
		for name, p := range fs.Properties {
			s.Properties[name] = p
		}
		s.Required = append(s.Required, fs.Required...)
		return nil
	}
	name := tag.name
	if name == "" {
		name = f.Name
	}
	if tag.asString {
		fs = Props{Type: "string"}
	}
	s.Properties[name] = fs
	if isRequired(owner, f, tag) {
		s.Required = append(s.Required, name)
	}
	return nil
}

func isRequired(owner reflect.Type, f reflect.StructField, tag jsonTag) bool {
	if tag.omitEmpty || !strings.HasPrefix(owner.PkgPath(), "knative.dev/") {
		return false
	}
	kind := f.Type.Kind()
	return kind == reflect.String || kind == reflect.Slice
}

type jsonTag struct {
	name      string
	skip      bool
	omitEmpty bool
	asString  bool
}

func parseTag(tag string) jsonTag {
	if tag == "-" {
		return jsonTag{skip: true}
	}
	name, options, _ := strings.Cut(tag, ",")
	parsed := jsonTag{name: name}
	for option := range strings.SplitSeq(options, ",") {
		switch option {
		case "omitempty", "omitzero":
			parsed.omitEmpty = true
		case "string":
			parsed.asString = true
		}
	}
	return parsed
}
