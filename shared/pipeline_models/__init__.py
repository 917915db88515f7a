"""Shared models and pure logic of pipeline-events: both services import it; it imports neither."""
