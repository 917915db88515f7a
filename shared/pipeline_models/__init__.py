"""Shared models and pure logic for pipeline-events: both services import this, it imports neither.

Modules, one job each:

* ``ids`` — id types and pipeline id minting; ``problems`` — :class:`Problem` and JSON paths;
  ``errors`` — the error tree, :class:`ErrorCode` and :class:`ErrorBody`.
* ``steps``, ``retry`` — the step union; ``options``, ``option_checks`` — pipeline options;
  ``pipeline`` — specs, versions, the API's pipeline view and version selectors.
* ``expressions``, ``references``, ``templating`` — ``${{ JMESPath }}`` templates and the step
  references they imply; ``graph`` — the step graph.
* ``conversion``, ``unknown_fields``, ``step_checks``, ``validation`` — validating a spec with
  every problem reported; ``topics``, ``quantities`` — Kafka topic and Kubernetes quantity syntax.
* ``naming`` — Kubernetes-safe names; ``trigger`` — trigger status and intent.
* ``envelope``, ``runner_settings``, ``egress``, ``contract`` — what the API hands the runner.
"""

from pipeline_models.contract import (
    RunnerConfig,
    decode_runner_env,
    encode_runner_env,
    runner_env_size_problem,
)
from pipeline_models.egress import EgressPolicy, egress_denial_reason
from pipeline_models.envelope import (
    MAX_ARG_STRLEN,
    PIPELINE_ENV,
    RUNNER_SETTINGS_ENV,
    SCHEMA_VERSION,
)
from pipeline_models.errors import (
    ContractError,
    ErrorBody,
    ErrorCode,
    ExpressionError,
    InvalidVersionSelector,
    PipelineModelsError,
    SpecInvalid,
    StepGraphError,
    TemplateSyntaxError,
)
from pipeline_models.expressions import Expression, Template, is_truthy, parse_template
from pipeline_models.graph import StepGraph, build_step_graph, find_cycles
from pipeline_models.ids import (
    PipelineId,
    StepId,
    TenantId,
    is_pipeline_id,
    new_pipeline_id,
)
from pipeline_models.naming import consumer_group, label_value, service_name
from pipeline_models.options import (
    DeadLetter,
    DeliveryOptions,
    PipelineOptions,
    ResourceRequests,
    ScalingOptions,
    TimeoutOptions,
    delivery_timeout_seconds,
    pipeline_deadline_seconds,
)
from pipeline_models.pipeline import (
    LATEST,
    Pipeline,
    PipelineSpec,
    PipelineVersion,
    VersionSelector,
    parse_version_selector,
    pipeline_view,
)
from pipeline_models.problems import Problem
from pipeline_models.retry import RetryPolicy, backoff_seconds
from pipeline_models.runner_settings import DedupSettings, KafkaSettings, RunnerSettings
from pipeline_models.steps import (
    STEP_TYPES,
    FilterStep,
    HttpMethod,
    HttpStep,
    KafkaStep,
    LogLevel,
    LogStep,
    StatusRange,
    Step,
    TransformStep,
    status_accepted,
)
from pipeline_models.templating import (
    ValueTemplate,
    compile_value,
    find_templates,
    step_references,
    step_templates,
)
from pipeline_models.topics import is_kafka_topic, kafka_topic_problem
from pipeline_models.trigger import TriggerIntent, TriggerState, TriggerStatus
from pipeline_models.unknown_fields import unknown_field_problems
from pipeline_models.validation import validate_pipeline_spec

__all__ = [
    "LATEST",
    "MAX_ARG_STRLEN",
    "PIPELINE_ENV",
    "RUNNER_SETTINGS_ENV",
    "SCHEMA_VERSION",
    "STEP_TYPES",
    "ContractError",
    "DeadLetter",
    "DedupSettings",
    "DeliveryOptions",
    "EgressPolicy",
    "ErrorBody",
    "ErrorCode",
    "Expression",
    "ExpressionError",
    "FilterStep",
    "HttpMethod",
    "HttpStep",
    "InvalidVersionSelector",
    "KafkaSettings",
    "KafkaStep",
    "LogLevel",
    "LogStep",
    "Pipeline",
    "PipelineId",
    "PipelineModelsError",
    "PipelineOptions",
    "PipelineSpec",
    "PipelineVersion",
    "Problem",
    "ResourceRequests",
    "RetryPolicy",
    "RunnerConfig",
    "RunnerSettings",
    "ScalingOptions",
    "SpecInvalid",
    "StatusRange",
    "Step",
    "StepGraph",
    "StepGraphError",
    "StepId",
    "Template",
    "TemplateSyntaxError",
    "TenantId",
    "TimeoutOptions",
    "TransformStep",
    "TriggerIntent",
    "TriggerState",
    "TriggerStatus",
    "ValueTemplate",
    "VersionSelector",
    "backoff_seconds",
    "build_step_graph",
    "compile_value",
    "consumer_group",
    "decode_runner_env",
    "delivery_timeout_seconds",
    "egress_denial_reason",
    "encode_runner_env",
    "find_cycles",
    "find_templates",
    "is_kafka_topic",
    "is_pipeline_id",
    "is_truthy",
    "kafka_topic_problem",
    "label_value",
    "new_pipeline_id",
    "parse_template",
    "parse_version_selector",
    "pipeline_deadline_seconds",
    "pipeline_view",
    "runner_env_size_problem",
    "service_name",
    "status_accepted",
    "step_references",
    "step_templates",
    "unknown_field_problems",
    "validate_pipeline_spec",
]
