"""The WhatsApp hub: one process owning every WhatsApp session, speaking HTTP to everyone else."""


def create_app(config=None):
    """See hub.app.create_app (imported lazily so `import hub` stays cheap)."""
    from hub.app import create_app as _create_app

    return _create_app(config)
