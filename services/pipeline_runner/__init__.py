"""The pipeline runner: decodes the CloudEvents a KafkaSource delivers and runs the steps.

Layers, outermost first: ``app`` (HTTP edge, lifespan, signals) and ``answers`` (the only place
HTTP statuses are chosen) → ``runtime`` (the event path: ``admission``, ``decoding``, ``dedup``,
``engine``) → ``steps`` (one executor per step type) → adapters that translate third-party
errors once: ``egress`` (httpx transport), ``producing`` (aiokafka). ``errors`` is the tree
they all raise; ``event`` the decoded CloudEvent.
"""
