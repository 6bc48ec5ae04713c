"""Where downloaded media lives: a directory (HUB_UPLOADS_DIR) or an S3-compatible bucket.

`HUB_MEDIA_STORE` picks it: empty (the default) or a path is a directory; `s3://bucket/prefix`
is a bucket every hub process shares (scale-out: any process answers `/uploads/<name>`).
Both stores keep the same names (`storage.new_file_name`) and answer only names the hub
generated (`storage.STORED_NAME`), so the public URL of a file is the same wherever it lives.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.config import S3_URL
from hub.media import storage

CHUNK = 64 * 1024


@dataclass
class S3Object:
    """One stored file read from the bucket: a stream of its bytes and what HTTP needs to serve it."""

    name: str
    size: int
    etag: str
    modified: datetime
    chunks: Iterator[bytes]
    content_range: str | None = None  # set when a Range was asked for (206)


class NotModified(Exception):
    """The client's copy (If-None-Match) is current: answer 304."""


class RangeNotSatisfiable(Exception):
    """The asked-for Range lies outside the file: answer 416."""


class DirectoryStore:
    """Media files in one directory (HUB_UPLOADS_DIR, or the path HUB_MEDIA_STORE names)."""

    kind = "directory"

    def __init__(self, directory: str):
        self.directory = directory

    def save(self, data: bytes, mimetype: str | None) -> storage.StoredFile:
        """Write `data` under a new name (atomically)."""
        return storage.save(self.directory, data, mimetype)

    def path(self, name: str) -> Path | None:
        """The file for a public name, or None (only names the hub generated)."""
        return storage.stored_path(self.directory, name)

    def delete_older_than(self, days: float, now: float | None = None) -> list[str]:
        """Delete files older than `days`; returns their names."""
        return storage.delete_older_than(self.directory, days, now)


class S3Store:
    """Media files as objects `<prefix>/<name>` in an S3-compatible bucket (boto3)."""

    kind = "s3"

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client

    def save(self, data: bytes, mimetype: str | None) -> storage.StoredFile:
        """Put `data` under a new name (S3 puts are atomic: a crash never leaves half an object)."""
        name = storage.new_file_name(mimetype)
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data,
                               ContentType=storage.mimetype_of(name))
        return storage.StoredFile(name, len(data), hashlib.sha256(data).hexdigest())

    def open(self, name: str, byte_range: str | None = None, if_none_match: str | None = None) -> S3Object | None:
        """The object for a public name (streamed), or None when the hub never stored it or it expired."""
        if not storage.STORED_NAME.match(name):
            return None
        arguments = {"Bucket": self.bucket, "Key": self.prefix + name}
        if byte_range:
            arguments["Range"] = byte_range
        if if_none_match:
            arguments["IfNoneMatch"] = if_none_match
        try:
            answer = self.client.get_object(**arguments)
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            raise _http_error(exc) from None
        return S3Object(name, answer["ContentLength"], answer["ETag"], answer["LastModified"],
                        answer["Body"].iter_chunks(CHUNK), answer.get("ContentRange"))

    def delete_older_than(self, days: float, now: float | None = None) -> list[str]:
        """Delete the hub's objects last modified more than `days` ago; returns their names."""
        cutoff = (now or time.time()) - days * 86400
        old = [name for name, modified in self._listing() if modified < cutoff]
        for start in range(0, len(old), 1000):  # DeleteObjects takes at most 1,000 keys
            keys = [{"Key": self.prefix + name} for name in old[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
        return old

    def _listing(self) -> Iterator[tuple[str, float]]:
        """(name, modified epoch seconds) of every object the hub stored under the prefix."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix):]
                if storage.STORED_NAME.match(name):
                    yield name, item["LastModified"].timestamp()


def _http_error(exc) -> Exception:
    """The S3 answer an HTTP client must hear about (304, 416); anything else stays an error."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = exc.response.get("Error", {}).get("Code")
    if status == 304 or code == "304":
        return NotModified()
    if status == 416 or code == "InvalidRange":
        return RangeNotSatisfiable()
    return exc


def media_store(config) -> DirectoryStore | S3Store:
    """The store HUB_MEDIA_STORE names (one per setting and process: boto3 clients are costly to make)."""
    return _store(config.media_store or config.uploads_dir, config.s3_endpoint)


@functools.lru_cache(maxsize=8)
def _store(where: str, s3_endpoint: str) -> DirectoryStore | S3Store:
    match = S3_URL.match(where)
    if match is None:
        return DirectoryStore(where)
    import boto3  # only deployments that use a bucket pay for importing boto3
    from botocore.config import Config as BotoConfig

    # Bounded: a slow bucket must not hold a download or an /uploads request for minutes.
    settings = BotoConfig(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
    client = boto3.client("s3", endpoint_url=s3_endpoint or None, config=settings)
    return S3Store(match["bucket"], match["prefix"] or "", client)
