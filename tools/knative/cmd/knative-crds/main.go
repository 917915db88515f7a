// Command knative-crds prints the CustomResourceDefinitions of Knative Serving's Service and
// eventing-kafka-broker's KafkaSource and KafkaSink, with schemas generated from Knative's Go API
// types, so a bare kube-apiserver (no Knative installed) can store these objects.
//
// Usage:
//
//	knative-crds            # a JSON array of CRD objects (what pipeline-events' tests read)
//	knative-crds -o yaml    # the same as a multi-document YAML stream, for `kubectl apply -f -`
//
// See package internal/crds for how these CRDs differ from the ones Knative ships.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"

	"pipeline-events/tools/knative/internal/crds"
)

func main() {
	output := flag.String("o", "json", "output format: json (an array) or yaml (a document stream)")
	flag.Parse()
	if err := run(os.Stdout, *output); err != nil {
		fmt.Fprintln(os.Stderr, "knative-crds:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, output string) error {
	all, err := crds.BuildAll()
	if err != nil {
		return err
	}
	switch output {
	case "json":
		encoder := json.NewEncoder(w)
		encoder.SetIndent("", "  ")
		return encoder.Encode(all)
	case "yaml":
		for _, crd := range all {
			doc, err := yaml.Marshal(crd)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "---\n%s", doc); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown output format %q (want json or yaml)", output)
	}
}
