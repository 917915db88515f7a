"""The reference apps the runner is measured against, one module each, each exposing ``app``.

Started by :mod:`run` as real uvicorn processes; ``sdk_core`` runs from a venv with cloudevents
2.x, the others from the project's venv (cloudevents 1.x, whose classic API is "SDK v1").
"""
