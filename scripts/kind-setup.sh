#!/usr/bin/env bash
# Creates a kind cluster with everything the kind suite (tests/kind) runs against, from pinned
# releases: Knative Serving with Kourier, Knative Eventing, eventing-kafka-broker's KafkaSource
# and KafkaSink, a single-node Kafka (KRaft) and a PostgreSQL; builds both images, loads them
# into the nodes and applies k8s/overlays/kind. Idempotent: rerun it to rebuild and reapply.
#
#   scripts/kind-setup.sh            # create (or reuse) the cluster, install, deploy
#   scripts/kind-setup.sh --delete   # delete the cluster
#
# Needs docker, kind and kubectl on PATH, and internet access (GitHub releases, Docker Hub).
# Then: .venv/bin/pytest tests/kind
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# The pins. kind's release pins its node image (Kubernetes) by digest; Knative's releases are
# the ones tools/knative's Go modules pin (serving v0.50.0 = knative-v1.23.0, eventing-kafka-broker
# v0.50.1 = knative-v1.23.1).
KIND_VERSION=v0.33.0
KNATIVE_SERVING_VERSION=knative-v1.23.0
KNATIVE_KOURIER_VERSION=knative-v1.23.0
KNATIVE_EVENTING_VERSION=knative-v1.23.0
KNATIVE_KAFKA_VERSION=knative-v1.23.1
KAFKA_IMAGE=docker.io/apache/kafka:4.1.1
POSTGRES_IMAGE=docker.io/library/postgres:15-bookworm

cluster=${KIND_CLUSTER:-pipeline-events}
api_image=kind.local/pipeline-events-api:e2e
runner_image=kind.local/pipeline-events-runner:e2e
wait_timeout=${KIND_SETUP_TIMEOUT:-600s}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'kind-setup: %s\n' "$*" >&2; exit 1; }

for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (see the README's Deployment section)"
done
docker info >/dev/null 2>&1 || die "docker is installed but its engine does not answer"
found_kind=$(kind version | awk '{print $2}')
if [ "$found_kind" != "$KIND_VERSION" ]; then
  say "kind $found_kind found; this script is tested with $KIND_VERSION (go install sigs.k8s.io/kind@$KIND_VERSION)"
fi

case "${1:-}" in
  --delete)
    kind delete cluster --name "$cluster"
    exit 0
    ;;
  "") ;;
  *) echo "usage: $0 [--delete]" >&2; exit 2 ;;
esac

kubectl_() { kubectl --context "kind-$cluster" "$@"; }

# Apply a release file of a Knative repository (server-side: the CRDs are too large for the
# last-applied annotation).
release() {
  local repo=$1 version=$2 file=$3
  say "applying $repo $version $file"
  kubectl_ apply --server-side --force-conflicts -f \
    "https://github.com/$repo/releases/download/$version/$file"
}

wait_deployments() {
  local namespace=$1
  kubectl_ wait deployment --all -n "$namespace" --for=condition=Available --timeout="$wait_timeout"
}

if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  say "creating kind cluster $cluster"
  kind create cluster --name "$cluster" --wait "$wait_timeout"
fi

# Knative Serving, with Kourier as its networking layer.
release knative/serving "$KNATIVE_SERVING_VERSION" serving-crds.yaml
kubectl_ wait crd --all --for=condition=Established --timeout="$wait_timeout"
release knative/serving "$KNATIVE_SERVING_VERSION" serving-core.yaml
release knative-extensions/net-kourier "$KNATIVE_KOURIER_VERSION" kourier.yaml
kubectl_ patch configmap/config-network -n knative-serving --type merge \
  -p '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
wait_deployments knative-serving
wait_deployments kourier-system

# Knative Eventing and the KafkaSource and KafkaSink.
release knative/eventing "$KNATIVE_EVENTING_VERSION" eventing-crds.yaml
kubectl_ wait crd --all --for=condition=Established --timeout="$wait_timeout"
release knative/eventing "$KNATIVE_EVENTING_VERSION" eventing-core.yaml
wait_deployments knative-eventing
release knative-extensions/eventing-kafka-broker "$KNATIVE_KAFKA_VERSION" eventing-kafka-controller.yaml
release knative-extensions/eventing-kafka-broker "$KNATIVE_KAFKA_VERSION" eventing-kafka-source.yaml
release knative-extensions/eventing-kafka-broker "$KNATIVE_KAFKA_VERSION" eventing-kafka-sink.yaml
kubectl_ wait crd --all --for=condition=Established --timeout="$wait_timeout"
wait_deployments knative-eventing

# Kafka and PostgreSQL.
say "deploying Kafka ($KAFKA_IMAGE) and PostgreSQL ($POSTGRES_IMAGE)"
sed "s|KAFKA_IMAGE|$KAFKA_IMAGE|" "$root/tests/kind/manifests/kafka.yaml" | kubectl_ apply -f -
sed "s|POSTGRES_IMAGE|$POSTGRES_IMAGE|" "$root/tests/kind/manifests/postgres.yaml" | kubectl_ apply -f -
kubectl_ rollout status statefulset/kafka -n kafka --timeout="$wait_timeout"
wait_deployments postgres

# The images, built from this checkout and loaded into the nodes (never pulled).
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for image in api runner; do
  tag=$api_image
  [ "$image" = runner ] && tag=$runner_image
  say "building $tag"
  docker build -f "$root/Dockerfile.$image" -t "$tag" \
    --build-arg REVISION="$revision" --build-arg CREATED="$created" "$root"
  kind load docker-image --name "$cluster" "$tag"
done

# The product.
say "applying k8s/overlays/kind"
kubectl_ apply -k "$root/k8s/overlays/kind"
kubectl_ rollout restart deployment/pipeline-events-api -n pipeline-events
kubectl_ rollout status deployment/pipeline-events-api -n pipeline-events --timeout="$wait_timeout"
say "ready: run .venv/bin/pytest tests/kind (cluster kind-$cluster)"
