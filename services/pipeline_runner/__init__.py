"""The pipeline runner: decodes the CloudEvents a KafkaSource delivers and runs the steps."""
