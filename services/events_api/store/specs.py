"""How a pipeline spec is stored: msgspec JSON of :class:`PipelineSpec`, read leniently.

Specs are validated before they reach the store, so writing only encodes. Reading skips fields
the running code does not know (a newer replica may have written them during a rolling update:
schema evolution); stored data that no longer decodes at all is reported as a permanent
:class:`StoreError` naming the pipeline and version, never as a raw msgspec error.
"""

import msgspec

from events_api.store.errors import StoreError
from pipeline_models import PipelineId, PipelineSpec

# Structs skip unknown fields unless they forbid them; PipelineSpec and its parts do not.
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(PipelineSpec)


def encode_spec(spec: PipelineSpec) -> str:
    """The JSON text stored for ``spec``."""
    return _ENCODER.encode(spec).decode("utf-8")


def decode_spec(stored: str | bytes, *, pipeline_id: PipelineId, version: int) -> PipelineSpec:
    """Read a stored spec back, skipping unknown fields.

    Raises:
        StoreError: the stored JSON cannot be read as a spec by this version of the code.
    """
    try:
        return _DECODER.decode(stored)
    except msgspec.DecodeError as error:
        raise StoreError(
            f"the stored spec of pipeline {pipeline_id!r} version {version} cannot be read "
            f"by this version of pipeline-events: {error}"
        ) from error
