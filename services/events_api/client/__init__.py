"""The `pipeline-events pipelines …` and `pipeline-events events …` client: the API over HTTP.

One job per module, in the order a command runs:

    config.py      where the API is and which token to send (flags > env > file > dev defaults)
    documents.py   the pipeline file `pipelines create -f` reads (JSON or YAML, or stdin)
    api.py         the typed HTTP client; httpx errors and error answers are translated here
    waiting.py     `events start --wait`: long-poll the status until ready or out of time
    progress.py    what the user sees while waiting: a spinner on a terminal, sparse lines else
    output.py      pure formatting of answers, errors and progress
    exit_codes.py  the exit codes, and which error ends in which
    commands.py    the sub-commands' handlers, tying the above together
    parsers.py     the argparse sub-commands, registered by `events_api.cli`

The client talks to the API only over HTTP: it imports none of the server's modules.
"""
