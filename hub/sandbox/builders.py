"""goneonize's message builders for the simulated library (a mixin `Goneonize` inherits).

Each builds what whatsmeow's builder of the same purpose returns; neonize calls them with the
argtypes `neonize/_binder.py` declares and parses the reply with `FromString`.
"""
from __future__ import annotations

from neonize.proto import Neonize_pb2 as N

from hub.sessions import builders


class MessageBuilders:
    """Builder functions of goneonize 0.5.2 `main.go` that need no network."""

    def BuildPollVoteCreation(self, uuid, name, options, options_size, selectable_count):
        """goneonize `BuildPollVoteCreation` → BuildMessageReturnFunction{Message}: whatsmeow
        `BuildPollCreation` (pollCreationMessage with each option, selectableOptionsCount — out of
        range becomes 0, any number — and a random 32-byte messageSecret in messageContextInfo)."""
        names = list(N.ArrayString.FromString(bytes(options[:options_size])).data)
        count = selectable_count if 0 <= selectable_count <= len(names) else 0
        message = builders.poll_creation_content(name.decode(), names, count)
        return N.BuildMessageReturnFunction(Message=message).SerializeToString()
