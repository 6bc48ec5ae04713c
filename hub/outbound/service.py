"""Accepting a send: answer a repeated Idempotency-Key, validate, store, then send at once or wake the worker.

The jobs are in their own modules: request.py (what a send is), idempotency.py, validation.py and
fetch.py (the media), enqueue.py (the row), settle.py (the send and its outcome), queue.py (the
queue's upkeep), reads.py; worker.py drains the queues in the background.
"""
from __future__ import annotations

from hub.context import HubContext
from hub.outbound.enqueue import store
from hub.outbound.idempotency import find_by_key
from hub.outbound.limits import limits_of, queue_estimate
from hub.outbound.request import SendRequest
from hub.outbound.settle import send_claimed
from hub.outbound.validation import validate
from hub.store import Outbound
from hub.store.messages import OutboundStatus


def accept(context: HubContext, request: SendRequest, check=validate) -> tuple[dict, int]:
    """Validate (`check`: a send's or a message action's rules), store, and send now when connected."""
    earlier = find_by_key(context, request)
    if earlier is not None:
        return answer(earlier)
    validated = check(context, request)
    row, engine = store(context, validated, request)
    if row.status == OutboundStatus.SENDING and engine is not None:  # else: a raced key's row, being sent
        row = send_claimed(context, row, engine)
    else:
        wake_worker(context, validated.session_id)
        row = wait_for_holder(context, row, request)
    body, status = answer(row)
    if status == 202 and limits_of(context, row.session_id).paced:
        body["queue"] = queue_estimate(context, row.session_id)  # when a paced queue will have sent it
    return body, status


def answer(row: Outbound) -> tuple[dict, int]:
    """The send's HTTP answer: 200 once sent (or failed), 202 while queued."""
    body = {"success": True, "id": row.id, "status": row.status}
    if row.status == OutboundStatus.SENT:
        body["messageId"] = row.message_id
        return body, 200
    if row.status == OutboundStatus.FAILED:
        body["error"] = row.error
        return body, 200
    body["status"] = OutboundStatus.QUEUED  # "sending" is a moment of "queued" for the caller
    return body, 202


def wake_worker(context: HubContext, session_id: str) -> None:
    """Tell the queue worker (when it runs: under gunicorn) that a running session has work.

    A session that is not running cannot send; its `connected` event wakes the worker later.
    """
    worker = context.outbound_worker
    if worker is not None and context.sessions.is_running(session_id):
        worker.wake()


def wait_for_holder(context: HubContext, row: Outbound, request: SendRequest) -> Outbound:
    """Cluster: a send queued for a session another process holds waits up to HUB_SEND_WAIT for its outcome there."""
    router = context.sessions.router
    if router is None or request.queue_only or row.status != OutboundStatus.QUEUED:
        return row
    return router.await_send(row) if router.elsewhere(row.session_id) else row
