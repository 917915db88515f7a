"""Trigger backends: what makes a pipeline version run when records land on its topic.

One protocol (start, stop, status), two backends: `knative/` (production: a Knative Service per
pipeline plus a KafkaSource feeding it) and, for dev mode, a local one.
"""
