// Command knative-validate runs Knative's own defaulting and validation (SetDefaults, then
// Validate, set up as Knative's admission webhooks set them up) on manifests, for a cluster that
// has Knative's CRDs but not its webhooks.
//
// Input on stdin: one JSON object or a JSON array. Each element is a manifest to create —
// serving.knative.dev/v1 Service, sources.knative.dev/v1 or v1beta1 KafkaSource,
// eventing.knative.dev/v1alpha1 KafkaSink — or an update, {"object": new, "oldObject": stored}.
//
// Output on stdout: a JSON array with one element per input element, in order:
//
//	{"kind", "name", "valid": bool, "errors": [string], "warnings": [string], "defaulted": object}
//
// Exit status 0 when every element was judged (valid or not); 2 with a message on stderr when the
// input is unusable (not JSON, not an object, an unsupported apiVersion/kind).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"pipeline-events/tools/knative/internal/admission"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "knative-validate:", err)
		os.Exit(2)
	}
}

func run(in io.Reader, out io.Writer) error {
	input, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	requests, err := parseRequests(input)
	if err != nil {
		return err
	}
	kinds := admission.Kinds()
	verdicts := make([]admission.Verdict, 0, len(requests))
	for i, req := range requests {
		verdict, err := admission.Admit(kinds, req)
		if err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		verdicts = append(verdicts, verdict)
	}
	return json.NewEncoder(out).Encode(verdicts)
}

// parseRequests accepts one element or an array of them.
func parseRequests(input []byte) ([]admission.Request, error) {
	trimmed := bytes.TrimSpace(input)
	if len(trimmed) == 0 {
		return nil, errors.New("no input: pass a JSON object or array on stdin")
	}
	var elements []json.RawMessage
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &elements); err != nil {
			return nil, fmt.Errorf("stdin is not a JSON array: %w", err)
		}
	} else {
		elements = []json.RawMessage{trimmed}
	}
	requests := make([]admission.Request, 0, len(elements))
	for i, element := range elements {
		req, err := parseRequest(element)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		requests = append(requests, req)
	}
	return requests, nil
}

// parseRequest tells a manifest (it has apiVersion) from an update envelope (object + oldObject).
func parseRequest(element json.RawMessage) (admission.Request, error) {
	var probe struct {
		APIVersion string          `json:"apiVersion"`
		Object     json.RawMessage `json:"object"`
		OldObject  json.RawMessage `json:"oldObject"`
	}
	if err := json.Unmarshal(element, &probe); err != nil {
		return admission.Request{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if probe.APIVersion != "" || probe.Object == nil {
		return admission.Request{Object: element}, nil
	}
	if probe.OldObject == nil {
		return admission.Request{}, errors.New(`an update needs both "object" and "oldObject"`)
	}
	return admission.Request{Object: probe.Object, Old: probe.OldObject}, nil
}
