"""The dev tooling's errors: one type per failure a user can act on (see the package docstring)."""


class DevstackError(Exception):
    """Base of every error the dev tooling raises."""


class ToolMissing(DevstackError):
    """A program the tooling needs (java, mvn, PostgreSQL's binaries) is not installed."""


class ProvisioningFailed(DevstackError):
    """A download, a build or a server start failed; the message carries the log's tail."""


class StartTimeout(DevstackError):
    """A server started but did not become ready within its deadline."""
