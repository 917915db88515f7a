"""Sample pipeline specs for the store tests."""

from pipeline_models import LogStep, PipelineOptions, PipelineSpec, StepId


def make_spec(name: str = "orders", *, topic: str = "orders", message: str = "hi") -> PipelineSpec:
    """A small valid spec; ``message`` tells versions apart."""
    return PipelineSpec(
        name=name,
        options=PipelineOptions(event=topic),
        steps=(LogStep(id=StepId("log"), message=message),),
    )
