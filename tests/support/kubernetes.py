"""Small conveniences over the test control plane: namespaces and clients for a token."""

import secrets

from kubernetes_asyncio import client, config

from events_api.devstack.kubernetes import KubeApiServer


def create_namespace(apiserver: KubeApiServer) -> str:
    """A fresh namespace (deleted ones stay Terminating: there is no controller-manager)."""
    name = f"test-{secrets.token_hex(4)}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    apiserver.request("POST", "/api/v1/namespaces", body)
    return name


async def api_client_for(apiserver: KubeApiServer, token: str, *, name: str) -> client.ApiClient:
    """A kubernetes_asyncio client that authenticates with `token` (close it when done)."""
    kubeconfig = apiserver.write_kubeconfig(token, name=name)
    return await config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
