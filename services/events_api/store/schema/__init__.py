"""The store's numbered schema migrations, as SQL files read with :mod:`importlib.resources`.

One file per step and backend, ``NNNN_name.BACKEND.sql`` (``0001_pipelines.sqlite.sql``,
``0001_pipelines.postgres.sql``): both backends get the same steps with the same numbers.
An applied file never changes (its checksum is recorded); a change is a new, higher number.
"""
