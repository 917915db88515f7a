"""The control plane: the Events and Pipelines REST API, and the `pipeline-events` command."""
