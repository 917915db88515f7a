// Package admission runs Knative's own defaulting and validation on manifests, the way Knative's
// admission webhooks (knative.dev/pkg/webhook/resourcesemantics/{defaulting,validation}) do, but
// in-process: a test cluster has the CRDs and no webhooks.
//
// Per object, as the API server would call the two webhooks on a create or an update:
//  1. Defaulting: decode leniently, build the webhook's context (its ctxFunc, then WithinCreate or
//     WithinUpdate with the defaulted old object), call SetDefaults.
//  2. Validation: decode the defaulted object again (strictly where the webhook is strict), build
//     the validating webhook's context, call Validate; error-level FieldErrors reject the object,
//     warning-level ones become warnings.
//
// Not reproduced: the webhooks' user-info annotations (serving.knative.dev/creator, …: no request
// user here) and Serving's podspec dry-run callback (it only runs on dry-run requests and needs a
// cluster).
package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"knative.dev/pkg/apis"
	webhookjson "knative.dev/pkg/webhook/json"
	"knative.dev/pkg/webhook/resourcesemantics"
)

// Kind is how Knative's webhook for one apiVersion+kind sets up its calls.
type Kind struct {
	APIVersion string
	Kind       string
	// New returns an empty object of the kind.
	New func() resourcesemantics.GenericCRD
	// DefaultingContext and ValidationContext are the webhooks' ctxFunc: the config stores and
	// options they add before calling SetDefaults and Validate.
	DefaultingContext func(context.Context) context.Context
	ValidationContext func(context.Context) context.Context
	// StrictValidation is the validating webhook's disallowUnknownFields.
	StrictValidation bool
}

// Request is one object to admit; Old is set for an update (the object as stored).
type Request struct {
	Object json.RawMessage
	Old    json.RawMessage
}

// Verdict is what the webhooks would have said about one object.
type Verdict struct {
	Kind      string          `json:"kind"`
	Name      string          `json:"name"`
	Valid     bool            `json:"valid"`
	Errors    []string        `json:"errors"`
	Warnings  []string        `json:"warnings"`
	Defaulted json.RawMessage `json:"defaulted"`
}

// Admit defaults and validates one object. An error means the input was unusable (bad JSON, an
// unknown kind); a rejected object is a Verdict with Valid false.
func Admit(kinds map[string]Kind, req Request) (Verdict, error) {
	kind, header, err := lookUp(kinds, req.Object)
	if err != nil {
		return Verdict{}, err
	}
	verdict := Verdict{Kind: header.Kind, Name: header.Metadata.Name, Errors: []string{}, Warnings: []string{}}
	defaulted, old, err := setDefaults(kind, req)
	if err != nil {
		verdict.Errors = append(verdict.Errors, err.Error())
		return verdict, nil
	}
	if verdict.Defaulted, err = json.Marshal(defaulted); err != nil {
		return Verdict{}, fmt.Errorf("%s %q: encoding the defaulted object: %w", header.Kind, header.Metadata.Name, err)
	}
	if unknown := strictDecodeError(kind, req.Object); unknown != "" {
		// The API server prunes such fields (or rejects them with fieldValidation=Strict).
		verdict.Warnings = append(verdict.Warnings, unknown)
	}
	errs, warnings := validate(kind, verdict.Defaulted, old)
	verdict.Errors = append(verdict.Errors, errs...)
	verdict.Warnings = append(verdict.Warnings, warnings...)
	verdict.Valid = len(verdict.Errors) == 0
	return verdict, nil
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func lookUp(kinds map[string]Kind, raw json.RawMessage) (Kind, header, error) {
	var h header
	if err := json.Unmarshal(raw, &h); err != nil {
		return Kind{}, h, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	kind, ok := kinds[h.APIVersion+"/"+h.Kind]
	if !ok {
		return Kind{}, h, fmt.Errorf("unsupported apiVersion %q kind %q (supported: %s)", h.APIVersion, h.Kind, supported(kinds))
	}
	return kind, h, nil
}

func supported(kinds map[string]Kind) string {
	return strings.Join(slices.Sorted(maps.Keys(kinds)), ", ")
}

// setDefaults mirrors the defaulting webhook: the old object (on update) is defaulted too, "so
// that we don't reject our own defaulting done earlier".
func setDefaults(kind Kind, req Request) (defaulted, old resourcesemantics.GenericCRD, err error) {
	ctx := kind.DefaultingContext(context.Background())
	if req.Old != nil {
		if old, err = decode(kind, req.Old, false); err != nil {
			return nil, nil, fmt.Errorf("cannot decode the old object: %w", err)
		}
		if err = guard("SetDefaults (old object)", func() { old.SetDefaults(ctx) }); err != nil {
			return nil, nil, err
		}
		ctx = apis.WithinUpdate(ctx, old)
	} else {
		ctx = apis.WithinCreate(ctx)
	}
	if defaulted, err = decode(kind, req.Object, false); err != nil {
		return nil, nil, fmt.Errorf("cannot decode the object: %w", err)
	}
	err = guard("SetDefaults", func() { defaulted.SetDefaults(ctx) })
	return defaulted, old, err
}

// validate mirrors the validating webhook, which sees the object after defaulting.
func validate(kind Kind, defaulted json.RawMessage, old resourcesemantics.GenericCRD) (errs, warnings []string) {
	object, err := decode(kind, defaulted, kind.StrictValidation)
	if err != nil {
		return []string{fmt.Sprintf("decoding the defaulted object failed: %v", err)}, nil
	}
	ctx := kind.ValidationContext(context.Background())
	if old != nil {
		ctx = apis.WithinUpdate(ctx, old)
	} else {
		ctx = apis.WithinCreate(ctx)
	}
	var result *apis.FieldError
	if err := guard("Validate", func() { result = object.Validate(ctx) }); err != nil {
		return []string{err.Error()}, nil
	}
	return messages(result.Filter(apis.ErrorLevel)), messages(result.Filter(apis.WarningLevel))
}

func messages(fe *apis.FieldError) []string {
	out := []string{}
	if fe == nil {
		return out
	}
	for _, e := range fe.WrappedErrors() {
		out = append(out, e.Error())
	}
	return out
}

func decode(kind Kind, raw json.RawMessage, strict bool) (resourcesemantics.GenericCRD, error) {
	object := kind.New()
	return object, decodeInto(raw, object, strict)
}

// strictDecodeError names a field of the input that the Go type does not know, or is "".
func strictDecodeError(kind Kind, raw json.RawMessage) string {
	if err := decodeInto(raw, kind.New(), true); err != nil {
		return fmt.Sprintf("the object has fields Knative does not know: %v", err)
	}
	return ""
}

// guard turns a panic inside Knative's code (a nil it did not expect) into an error for this
// object instead of losing the whole batch.
func guard(what string, call func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s panicked: %v", what, r)
		}
	}()
	call()
	return nil
}

// decodeInto is the webhooks' own decoder: strict mode still lets metadata carry unknown fields.
func decodeInto(raw json.RawMessage, object resourcesemantics.GenericCRD, strict bool) error {
	return webhookjson.Decode(raw, object, strict)
}
