"""Any process answers any call: a call that needs a session's live engine runs on the process holding it.

One path for every such service function: `@on_holder` wraps it. On SQLite, or when this process
holds the session, or when nobody does, the call runs here unchanged (no table traffic). When
another live process holds the session's lease, the call becomes a row of `cluster_commands`
(hub/store/commands.py); the holder is woken by a NOTIFY (hub/cluster/notify.py; it also polls,
as notifications are not durable), claims the row with a conditional UPDATE (at most once), runs
the very same function and writes the answer or the error with a NOTIFY on the reply channel; the
caller waits for it (woken by that reply, or its own poll) until its deadline (HUB_SEND_WAIT),
then answers 503 `owner_unavailable`. A holder that dies leaves the lease to
expire: whoever takes the session over runs the command if its caller still waits.

Sends are not commands: they are queued rows already (hub/outbound/); `await_send` wakes the
holder's queue worker and waits for the row's outcome (its event, relayed by hub/cluster/broadcast.py).
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import gevent
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.cluster.notify import notify
from hub.context import HubContext
from hub.errors import BadRequest, Conflict, Forbidden, HubError, NotFound, PayloadTooLarge, Unavailable
from hub.store.cluster import SessionLease
from hub.store.commands import ClusterCommand, CommandStatus
from hub.store.ids import new_id
from hub.store.messages import FINAL_STATUSES, Outbound
from hub.store.models import utcnow

log = logging.getLogger(__name__)

COMMANDS = "hub_commands"  # NOTIFY channel: a command for a session (payload: the session id)
REPLIES = "hub_command_replies"  # NOTIFY channel: a command was answered (payload: its id)
OUTBOUND = "hub_outbound"  # NOTIFY channel: a send queued for a session held elsewhere (payload: the session id)
POLL = 1.0  # seconds between looks at the table when no notification comes (one may be lost in an outage)
REPLY_POLL = 0.5  # a waiting caller's look at its command's row, between replies
SETTLED_EVENTS = ("message-sent", "message-failed")  # what a queued send's outcome is announced as
PURGE_AFTER = 60.0  # seconds a command row stays after its deadline (a late answer is still readable)

_functions: dict[str, Callable] = {}  # kind -> the undecorated service function
_argument_types: dict[str, type] = {}  # dataclasses a command may carry as an argument
ERROR_KINDS = {kind.status: kind for kind in (BadRequest, Forbidden, NotFound, Conflict, PayloadTooLarge, Unavailable)}


def on_holder(function: Callable) -> Callable:
    """Run `function(context_or_manager, session_id, ...)` on the process that holds the session."""
    kind = f"{function.__module__}:{function.__qualname__}"
    _functions[kind] = function

    @functools.wraps(function)
    def routed(owner, session_id: str, *args, **kwargs):
        router = getattr(getattr(owner, "sessions", owner), "router", None)
        if router is None or not router.elsewhere(session_id):
            return function(owner, session_id, *args, **kwargs)
        on = "context" if hasattr(owner, "sessions") else "sessions"
        return router.call(kind, session_id, {"on": on, "args": encode(list(args)), "kwargs": encode(kwargs)})
    return routed


def command_argument(cls: type) -> type:
    """Class decorator: instances of this dataclass may be arguments of an `@on_holder` function."""
    _argument_types[cls.__qualname__] = cls
    return cls


def encode(value):
    """Arguments as JSON (registered dataclasses tagged with their class)."""
    if dataclasses.is_dataclass(value) and type(value).__qualname__ in _argument_types:
        return {"$dataclass": type(value).__qualname__, "fields": dataclasses.asdict(value)}
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return value


def decode(value):
    """The arguments `encode` wrote, as they were."""
    if isinstance(value, dict) and "$dataclass" in value:
        return _argument_types[value["$dataclass"]](**value["fields"])
    if isinstance(value, dict):
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


class OwnerUnavailable(Unavailable):
    """The process holding the session did not answer in time."""

    code = "owner_unavailable"
    retry_after = 5


def error_answer(exc: HubError) -> dict:
    """A hub error as a command's answer (raised again on the caller's side)."""
    return {"error": {"status": exc.status, "code": exc.code, "message": exc.message, "extra": exc.extra}}


def result_of(answer: dict):
    """A command's result, or its error raised as the holder raised it (of the kind its status says)."""
    if "error" in answer:
        error = answer["error"]
        kind = ERROR_KINDS.get(error["status"], HubError)  # callers catch Conflict, NotFound, ... as they would here
        raise kind(error["message"], code=error["code"], status=error["status"], **error["extra"])
    return answer["result"]


class Router:
    """This process's side of the commands: asks holders, and runs what is asked of it."""

    def __init__(self, context: HubContext):
        self.context = context
        self.node = context.node
        self.wait = context.config.send_wait
        self.kick = threading.Event()  # set by a notification: look at the table now
        self.replies: dict[str, threading.Event] = {}  # command id -> set when its answer is announced
        self.running = True

    def elsewhere(self, session_id: str) -> bool:
        """Whether another process holds the session's lease (unexpired): then it runs the session's calls."""
        if session_id in self.node.held:
            return False
        with self.context.store.session() as db:
            lease = db.get(SessionLease, session_id)
            return lease is not None and lease.owner != self.node.node_id and lease.expires_at > utcnow()

    def call(self, kind: str, session_id: str, arguments: dict):
        """Write the command, wake the holder, wait for its answer (503 owner_unavailable after HUB_SEND_WAIT)."""
        self.context.sessions.peek(session_id)  # 404 (and a scoped key's 404) before anything is written
        command_id, now = new_id("cmd"), utcnow()
        with self.context.store.session() as db:
            db.add(ClusterCommand(id=command_id, session_id=session_id, kind=kind, arguments=arguments,
                                  status=CommandStatus.PENDING, caller=self.node.node_id, created_at=now,
                                  deadline=now + timedelta(seconds=self.wait)))
            notify(db, COMMANDS, session_id)
        answer = self._await(command_id, time.monotonic() + self.wait)
        if answer is None:
            raise OwnerUnavailable(self._late(command_id, session_id))
        return result_of(answer)

    def _await(self, command_id: str, deadline: float) -> dict | None:
        """The command's answer once written; None at the deadline."""
        replied = self.replies[command_id] = threading.Event()
        try:
            while (left := deadline - time.monotonic()) > 0:
                replied.wait(min(left, REPLY_POLL))
                with self.context.store.session() as db:
                    answer = db.scalar(select(ClusterCommand.answer).where(
                        ClusterCommand.id == command_id, ClusterCommand.status == CommandStatus.DONE))
                if answer is not None:
                    return answer
            return None
        finally:
            self.replies.pop(command_id, None)

    def replied(self, command_id: str) -> None:
        """Notification: a command was answered (maybe one this process waits for)."""
        waiting = self.replies.get(command_id)
        if waiting is not None:
            waiting.set()

    def _late(self, command_id: str, session_id: str) -> str:
        """The 503's message: whether the call may still happen (it was claimed) or never will."""
        with self.context.store.session() as db:
            cancelled = ClusterCommand.cancel(db, command_id)
        outcome = "nothing was done" if cancelled else "it was still running there and may yet take effect"
        return (f"The hub process holding session '{session_id}' did not answer within {self.wait:g} s "
                f"(HUB_SEND_WAIT); {outcome}. Try again in a few seconds.")

    def await_send(self, row: Outbound) -> Outbound:
        """Wake the holder's queue worker; the row once sent or failed, or as it is after HUB_SEND_WAIT.

        The row's message-sent / message-failed event reaches this process's bus from the holder
        (hub/cluster/broadcast.py) and ends the wait; the row is read again every REPLY_POLL as well,
        in case that announcement was lost.
        """
        settled = self.context.bus.subscribe(lambda envelope: envelope["type"] in SETTLED_EVENTS
                                             and envelope["data"].get("outboundId") == row.id, maxsize=1)
        try:
            with self.context.store.session() as db:
                notify(db, OUTBOUND, row.session_id)
            deadline = time.monotonic() + self.wait
            while (left := deadline - time.monotonic()) > 0:
                settled.get(timeout=min(left, REPLY_POLL))
                with self.context.store.session() as db:
                    latest = db.scalar(select(Outbound).where(Outbound.id == row.id))
                    if latest is not None and latest.status in FINAL_STATUSES:
                        db.expunge(latest)
                        return latest
            return row
        finally:
            settled.close()

    def run_pending(self) -> int:
        """Claim and start every waiting command for a session running here; how many."""
        running = [session_id for session_id in list(self.node.held) if self.context.sessions.is_running(session_id)]
        if not running:
            return 0
        with self.context.store.session() as db:
            pending = ClusterCommand.pending_for(db, running, utcnow())
            claimed = [command_id for command_id in pending
                       if ClusterCommand.claim(db, command_id, self.node.node_id, utcnow())]
        for command_id in claimed:
            gevent.spawn(self.execute, command_id)
        return len(claimed)

    def execute(self, command_id: str) -> None:
        """Run a claimed command through its service function and write the answer."""
        with self.context.store.session() as db:
            command = db.get(ClusterCommand, command_id)
            db.expunge(command)
        remaining = (command.deadline - utcnow()).total_seconds()
        self.context.sessions.settled(command.session_id, max(0.0, remaining))  # one just taken over: its dial
        try:
            answer = {"result": self._run(command)}
        except HubError as exc:
            answer = error_answer(exc)
        except Exception as exc:
            log.exception("cluster: command %s for %s failed", command.kind, command.session_id,
                          extra={"sessionId": command.session_id})
            answer = error_answer(Unavailable(f"The hub process holding the session failed the call: "
                                              f"{type(exc).__name__}.", code="owner_failed"))
        with self.context.store.session() as db:
            ClusterCommand.finish(db, command_id, answer)
            notify(db, REPLIES, command_id)

    def _run(self, command: ClusterCommand):
        arguments = command.arguments
        target = self.context if arguments["on"] == "context" else self.context.sessions
        return _functions[command.kind](target, command.session_id, *decode(arguments["args"]),
                                        **decode(arguments["kwargs"]))

    def loop(self) -> None:
        """Run commands as they come (woken, or every POLL seconds)."""
        while self.running:
            self.kick.wait(POLL)
            self.kick.clear()
            try:
                self.run_pending()
            except SQLAlchemyError as exc:  # the database is away: the coordinator says so already
                log.warning("cluster: looking for commands failed (%s)", type(exc).__name__)
            except Exception:
                log.exception("cluster: looking for commands failed")

    def purge(self) -> int:
        """Scheduler job: delete commands long past their deadline."""
        with self.context.store.session() as db:
            return ClusterCommand.purge(db, utcnow() - timedelta(seconds=PURGE_AFTER))


def start(context: HubContext, scheduler) -> None:
    """Background module: in a cluster, route calls for other processes' sessions and run theirs for ours."""
    if context.coordinator is None:
        return
    router = context.sessions.router = Router(context)
    context.listener.subscribe(COMMANDS, lambda session_id: router.kick.set(), on_missed=router.kick.set)
    context.listener.subscribe(REPLIES, router.replied)
    context.listener.subscribe(OUTBOUND, lambda session_id: wake_sender(context, session_id))
    threading.Thread(target=router.loop, name="cluster-commands", daemon=True).start()
    scheduler.add_job(router.purge, "interval", seconds=PURGE_AFTER, id="cluster-commands-purge")


def wake_sender(context: HubContext, session_id: str) -> None:
    """Notification: a send was queued through another process for a session that may be running here."""
    if context.outbound_worker is not None and context.sessions.is_running(session_id):
        context.outbound_worker.wake()


def stop(context: HubContext) -> None:
    router = getattr(context.sessions, "router", None)
    if router is not None:
        router.running = False
        router.kick.set()
