"""The runner contract: env encoding round trip and every way decoding refuses."""

import json
from datetime import UTC, datetime

import msgspec
import pytest

from pipeline_models import (
    PIPELINE_ENV,
    RUNNER_SETTINGS_ENV,
    SCHEMA_VERSION,
    ContractError,
    EgressPolicy,
    KafkaSettings,
    PipelineId,
    PipelineVersion,
    RunnerSettings,
    decode_runner_env,
    encode_runner_env,
    runner_env_size_problem,
    validate_pipeline_spec,
)

SPEC = validate_pipeline_spec(
    {
        "name": "orders",
        "options": {"event": "orders", "timeouts": {"request_timeout_seconds": 120}},
        "steps": [
            {"type": "transform", "id": "a", "output": {"n": "${{ event.data.n }}"}},
            {"type": "log", "id": "b", "message": "n=${{ steps.a.n }}"},
        ],
    }
)
VERSION = PipelineVersion(
    pipeline_id=PipelineId("pipeline-abc123def456"),
    version=3,
    spec=SPEC,
    created_at=datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
)
SETTINGS = RunnerSettings(
    kafka=KafkaSettings(
        bootstrap_servers=("kafka:9092",),
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username_env="KAFKA_USER",
        sasl_password_env="KAFKA_PASSWORD",
    ),
    max_concurrency=7,
    egress=EgressPolicy(allow_cidrs=("10.1.0.0/16",)),
)


def env() -> dict[str, str]:
    return encode_runner_env(pipeline=VERSION, settings=SETTINGS)


def test_round_trip() -> None:
    config = decode_runner_env(env())
    assert config.pipeline == VERSION
    assert config.settings == SETTINGS
    assert config.graph.order == ("a", "b")
    assert config.deadline_seconds == pytest.approx(110.0)


def test_env_names_and_schema() -> None:
    encoded = env()
    assert set(encoded) == {PIPELINE_ENV, RUNNER_SETTINGS_ENV}
    pipeline = json.loads(encoded[PIPELINE_ENV])
    assert pipeline["schema"] == SCHEMA_VERSION == 1
    assert pipeline["pipeline_id"] == "pipeline-abc123def456"
    assert pipeline["version"] == 3
    # Defaults are written out, so another release's defaults cannot change the meaning.
    assert pipeline["spec"]["options"]["delivery"]["retry"] == 10
    assert json.loads(encoded[RUNNER_SETTINGS_ENV])["schema"] == 1


def test_secrets_never_travel_in_settings() -> None:
    settings = json.loads(env()[RUNNER_SETTINGS_ENV])["settings"]["kafka"]
    assert settings["sasl_username_env"] == "KAFKA_USER"
    assert "password" not in {key for key in settings if not key.endswith("_env")}


def test_explicit_deadline_wins_and_must_stay_below_the_request_timeout() -> None:
    encoded = encode_runner_env(
        pipeline=VERSION, settings=RunnerSettings(pipeline_deadline_seconds=60.0)
    )
    assert decode_runner_env(encoded).deadline_seconds == 60.0
    too_long = encode_runner_env(
        pipeline=VERSION, settings=RunnerSettings(pipeline_deadline_seconds=120.0)
    )
    with pytest.raises(ContractError, match=r"must be below the pipeline's request timeout"):
        decode_runner_env(too_long)


def _with(name: str, value: object) -> dict[str, str]:
    encoded = env()
    encoded[name] = value if isinstance(value, str) else json.dumps(value)
    return encoded


def _pipeline_json() -> dict[str, object]:
    result: dict[str, object] = json.loads(env()[PIPELINE_ENV])
    return result


@pytest.mark.parametrize("missing", [PIPELINE_ENV, RUNNER_SETTINGS_ENV])
def test_missing_variable(missing: str) -> None:
    encoded = env()
    del encoded[missing]
    with pytest.raises(ContractError, match=f"{missing} is not set: start the trigger again"):
        decode_runner_env(encoded)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        (PIPELINE_ENV, "{not json", "is not a JSON object with an integer `schema`"),
        (PIPELINE_ENV, {"version": 1}, "is not a JSON object with an integer `schema`"),
        (PIPELINE_ENV, {"schema": 2}, "has schema 2, but this runner reads schema 1"),
        (RUNNER_SETTINGS_ENV, {"schema": 0, "settings": {}}, "has schema 0"),
        (RUNNER_SETTINGS_ENV, {"schema": 1, "settings": {"max_concurrency": 0}}, "malformed"),
        (
            RUNNER_SETTINGS_ENV,
            {"schema": 1, "settings": {"egress": {"allow_cidrs": ["10.0.0.0/99"]}}},
            "'10.0.0.0/99' is not an IP network",
        ),
        (PIPELINE_ENV, {"schema": 1, "pipeline_id": "p"}, "is malformed"),
    ],
)
def test_decoding_refuses(name: str, value: object, fragment: str) -> None:
    with pytest.raises(ContractError, match=fragment):
        decode_runner_env(_with(name, value))


def test_newer_schema_is_reported_even_when_the_layout_changed() -> None:
    with pytest.raises(ContractError, match="deploy the runner image of the same release"):
        decode_runner_env(_with(PIPELINE_ENV, {"schema": 2, "pipeline": {"completely": "new"}}))


def test_invalid_spec_is_revalidated() -> None:
    document = _pipeline_json()
    spec = document["spec"]
    assert isinstance(spec, dict)
    spec["steps"][1]["needs"] = ["ghost"]
    with pytest.raises(ContractError, match=r"\$\.steps\[1\]\.needs\[0\]: unknown step 'ghost'"):
        decode_runner_env(_with(PIPELINE_ENV, document))


def test_unknown_fields_are_skipped() -> None:
    document = _pipeline_json()
    document["added_later"] = {"x": 1}
    spec = document["spec"]
    assert isinstance(spec, dict)
    spec["added_later"] = True
    spec["steps"][0]["added_later"] = True
    settings = {
        "schema": 1,
        "added_later": 1,
        "settings": {"max_concurrency": 5, "new_knob": True, "kafka": {"new": 1}},
    }
    config = decode_runner_env(
        {PIPELINE_ENV: json.dumps(document), RUNNER_SETTINGS_ENV: json.dumps(settings)}
    )
    assert config.pipeline == VERSION
    assert config.settings.max_concurrency == 5


def test_size_problem_names_the_variable() -> None:
    assert runner_env_size_problem(env()) is None
    problem = runner_env_size_problem({"BIG": "x" * 131068})
    assert problem is not None
    assert "BIG would be 131073 bytes" in problem
    assert runner_env_size_problem({"BIG": "x" * 131067}) is None


def test_encode_refuses_oversized_settings() -> None:
    settings = RunnerSettings(egress=EgressPolicy(allow_hosts=tuple("h" * 200 for _ in range(700))))
    with pytest.raises(ContractError, match=RUNNER_SETTINGS_ENV):
        encode_runner_env(pipeline=VERSION, settings=settings)


def test_settings_decoding_needs_no_fields() -> None:
    encoded = _with(RUNNER_SETTINGS_ENV, {"schema": 1, "settings": {}})
    assert decode_runner_env(encoded).settings == RunnerSettings()
    assert msgspec.json.decode(encoded[RUNNER_SETTINGS_ENV])["schema"] == 1
