"""The 200 answer's body is SuccessBody's JSON, however it is put together."""

import msgspec
import pytest

from pipeline_runner.answers import Outcome, SuccessBody, success


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize(
    "event_id", ["partition:3/offset:123456", "", 'quote " and \\ backslash', "é\u2028\x00"]
)
def test_a_success_body_is_the_success_struct_encoded(outcome: Outcome, event_id: str) -> None:
    answer = success(outcome, event_id=event_id)

    assert answer.status == 200
    assert answer.label == outcome.value
    assert answer.body == msgspec.json.encode(SuccessBody(outcome=outcome, id=event_id))
    assert msgspec.json.decode(answer.body, type=SuccessBody) == SuccessBody(
        outcome=outcome, id=event_id
    )
