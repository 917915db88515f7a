"""The local trigger backend: dev mode's faithful twin of Knative, on one machine.

Per pipeline, a `python -m pipeline_runner` process (as a Knative revision runs) fed by an
aiokafka consumer that sends each record as exactly the CloudEvent a KafkaSource sends, with the
pipeline's delivery options. One module per job:

    settings.py         the operator's choices (`PIPELINE_EVENTS_LOCAL_*`)
    records.py          a consumed Kafka record, as plain data
    encoding.py         record → the KafkaSource's HTTP request (pure)
    retrying.py         which answers are retried, backoff schedule (pure)
    offsets.py          which offset may be committed (pure)
    dispatch_config.py  a version's options → its consumer's configuration (pure)
    delivery.py         one event to the runner, with retries
    dead_letters.py     failed records to the dead-letter topic or URI
    lanes.py            one partition's deliveries, ordered or unordered
    dispatcher.py       the consumer: poll, lanes, commits, rebalances
    offsets_reset.py    `reset=true`: offsets back to `initial_offset`
    processes.py        runner processes: spawn, health, stop by PID, orphans
    trigger.py          one pipeline: rollout, switch, status
    backend.py          the `TriggerBackend` (and resumption)
    kafka_clients.py    the shared producer; aiokafka errors translated
    resuming.py         the resumption hook the app's lifespan calls
    opening.py          open and close it all with the application
"""
