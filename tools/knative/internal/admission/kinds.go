package admission

import (
	"context"

	"knative.dev/eventing/pkg/apis/feature"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/webhook/resourcesemantics"
	servingconfig "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	sinksv1alpha1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/eventing/v1alpha1"
	sourcesv1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/sources/v1"
	sourcesv1beta1 "knative.dev/eventing-kafka-broker/control-plane/pkg/apis/sources/v1beta1"
)

// Kinds is every kind knative-validate admits, keyed by "apiVersion/Kind".
func Kinds() map[string]Kind {
	all := []Kind{
		servingKind("serving.knative.dev/v1", "Service", func() resourcesemantics.GenericCRD { return &servingv1.Service{} }),
		kafkaKind("sources.knative.dev/v1beta1", "KafkaSource", func() resourcesemantics.GenericCRD { return &sourcesv1beta1.KafkaSource{} }),
		kafkaKind("sources.knative.dev/v1", "KafkaSource", func() resourcesemantics.GenericCRD { return &sourcesv1.KafkaSource{} }),
		kafkaKind("eventing.knative.dev/v1alpha1", "KafkaSink", func() resourcesemantics.GenericCRD { return &sinksv1alpha1.KafkaSink{} }),
	}
	byKey := make(map[string]Kind, len(all))
	for _, k := range all {
		byKey[k.APIVersion+"/"+k.Kind] = k
	}
	return byKey
}

// servingKind is set up as Serving's webhook (serving cmd/webhook): both webhooks attach the
// config store (config-defaults, config-features, config-autoscaler) and are lenient about
// unknown fields. Here the store holds the defaults of an untouched installation, so the limits
// are Knative's defaults: timeoutSeconds up to 600, containerConcurrency up to 1000, …
func servingKind(apiVersion, kind string, create func() resourcesemantics.GenericCRD) Kind {
	withConfig := func(ctx context.Context) context.Context {
		return servingconfig.ToContext(ctx, servingconfig.FromContextOrDefaults(ctx))
	}
	return Kind{
		APIVersion: apiVersion, Kind: kind, New: create,
		DefaultingContext: withConfig, ValidationContext: withConfig,
		StrictValidation: false,
	}
}

// kafkaKind is set up as eventing-kafka-broker's webhook (control-plane cmd/webhook-kafka):
// references to other namespaces are allowed; validation also sees eventing's feature flags
// (their defaults here) and rejects unknown fields.
func kafkaKind(apiVersion, kind string, create func() resourcesemantics.GenericCRD) Kind {
	return Kind{
		APIVersion: apiVersion, Kind: kind, New: create,
		DefaultingContext: apis.AllowDifferentNamespace,
		ValidationContext: func(ctx context.Context) context.Context {
			return apis.AllowDifferentNamespace(feature.ToContext(ctx, feature.FromContextOrDefaults(ctx)))
		},
		StrictValidation: true,
	}
}
