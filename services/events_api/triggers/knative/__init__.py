"""The Knative trigger backend: the only package that talks to Kubernetes.

`kinds` and `labels` name what we manage, `settings` says how (from the operator, never from a
tenant), `manifests` builds the objects purely, `client` is the thin async seam over the
custom-objects API, and `watching`/`readiness` keep the watch-based cache status answers come from.
"""
