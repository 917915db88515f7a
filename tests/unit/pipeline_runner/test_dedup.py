"""The deduplication window: final results are remembered, for a while, and at most N."""

from hypothesis import given
from hypothesis import strategies as st

from pipeline_models import DedupSettings
from pipeline_runner.dedup import Claim, DedupWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_final_result_is_remembered_until_the_window_ends() -> None:
    clock = Clock()
    window: DedupWindow[str] = DedupWindow(DedupSettings(window_seconds=60), clock=clock)

    assert window.claim("a") == (Claim.NEW, None)
    window.release("a", remember="rejected")
    clock.now += 59.9
    assert window.claim("a") == (Claim.DONE, "rejected")
    clock.now += 0.1
    assert window.claim("a") == (Claim.NEW, None)


def test_a_result_not_remembered_is_forgotten_at_once() -> None:
    window: DedupWindow[str] = DedupWindow(DedupSettings())

    assert window.claim("a")[0] is Claim.NEW
    assert window.claim("a")[0] is Claim.IN_FLIGHT
    window.release("a", remember=None)
    assert window.claim("a")[0] is Claim.NEW


def test_the_oldest_results_go_first_beyond_max_entries() -> None:
    window: DedupWindow[str] = DedupWindow(DedupSettings(max_entries=2))
    for key in ("a", "b", "c"):
        window.claim(key)
        window.release(key, remember="ok")

    assert len(window) == 2
    assert window.claim("a")[0] is Claim.NEW
    assert window.claim("c")[0] is Claim.DONE


def test_a_zero_window_turns_deduplication_off() -> None:
    window: DedupWindow[str] = DedupWindow(DedupSettings(window_seconds=0))

    assert window.claim("a")[0] is Claim.NEW
    assert window.claim("a")[0] is Claim.NEW
    window.release("a", remember="ok")
    assert window.claim("a")[0] is Claim.NEW


@given(
    steps=st.lists(
        st.tuples(st.sampled_from("abcde"), st.floats(min_value=0, max_value=40), st.booleans()),
        max_size=60,
    )
)
def test_it_answers_like_a_plain_model_of_the_window(
    steps: list[tuple[str, float, bool]],
) -> None:
    """Against a dict of expiry times: what is DONE is exactly what was remembered < 60 s ago."""
    clock = Clock()
    window: DedupWindow[str] = DedupWindow(DedupSettings(window_seconds=60), clock=clock)
    remembered: dict[str, float] = {}
    for key, later, remember in steps:
        clock.now += later
        claim, _ = window.claim(key)
        expected = remembered.get(key, 0.0) > clock.now
        assert (claim is Claim.DONE) == expected
        if claim is Claim.NEW:
            window.release(key, remember="ok" if remember else None)
            if remember:
                remembered[key] = clock.now + 60
