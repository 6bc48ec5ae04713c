"""Retention: media files older than HUB_MEDIA_RETENTION_DAYS are deleted (their rows say so)."""
from __future__ import annotations

import logging

from sqlalchemy import update

from hub.context import HubContext
from hub.media.stores import media_store
from hub.store import MediaFile
from hub.store.messages import MediaStatus

log = logging.getLogger(__name__)


def purge(context: HubContext) -> list[str]:
    """Delete old files from the media store and mark their media rows expired; returns the names."""
    deleted = media_store(context.config).delete_older_than(context.config.media_retention_days)
    if deleted:
        with context.store.session() as db:
            db.execute(update(MediaFile).where(MediaFile.file_name.in_(deleted)).values(status=MediaStatus.EXPIRED))
        log.info("media retention: %d files deleted", len(deleted))
    return deleted
