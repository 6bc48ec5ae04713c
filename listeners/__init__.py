"""The consumer side of the hub: a small client (`listeners.client`) and two runnable examples,
`python -m listeners.bot_responder` and `python -m listeners.crm_receiver`. They use only the
hub's public HTTP API (no `hub` imports), so they can run on any other machine."""
