"""Prometheus metrics of one hub.

What the database knows (sessions, stored events, deliveries and their queue, the outbound
queue, stored media) is counted when Prometheus scrapes, so the figures survive restarts and
agree with the API. Two series are kept in the process: events recorded (a bus callback, a
true counter) and delivery-attempt latency (a histogram fed from the attempts table, reading
only the rows added since the previous scrape, so a scrape stays cheap however long the log).
A table that is missing or unreadable drops its series from that scrape, never the scrape.
"""
from __future__ import annotations

import logging
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from hub.context import HubContext
from hub.events import EVENT_TYPES
from hub.store import Attempt, Delivery, Event, MediaFile, Outbound, Session, utcnow
from hub.store.delivery import UNFINISHED, DeliveryStatus
from hub.store.messages import WAITING, MediaStatus, OutboundStatus
from hub.store.models import SessionStatus

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
ATTEMPTS_PER_SCRAPE = 20_000  # the first scrape after a restart catches up over several scrapes
disable_created_metrics()  # no `*_created` twin for every counter: noise on every dashboard


def _count_by(db, column, where=True) -> dict:
    """{value: rows} of one column."""
    return dict(db.execute(select(column, func.count()).where(where).group_by(column)).all())


def _oldest_age(db, column, where) -> float:
    """Seconds since the smallest `column` among the rows matching `where` (0 when none)."""
    oldest = db.scalar(select(func.min(column)).where(where))
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0


def _by_label(name: str, documentation: str, label: str, values, counts: dict) -> GaugeMetricFamily:
    """A gauge with one sample per known value (0 when absent), plus any unexpected value."""
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for value in dict.fromkeys([*values, *counts]):
        gauge.add_metric([str(value)], counts.get(value, 0))
    return gauge


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def sessions_families(db) -> list:
    return [_by_label("hub_sessions", "WhatsApp sessions by status.", "status", SessionStatus,
                      _count_by(db, Session.status))]


def events_families(db) -> list:
    return [_by_label("hub_events_stored", "Events in the event log (within retention) by type.",
                      "type", EVENT_TYPES, _count_by(db, Event.type))]


def _queue_families(db, model, statuses, waiting, by_status: tuple, depth: tuple, age: tuple) -> list:
    """Rows of a queue table by status, how many wait, and how long the oldest has waited."""
    counts = _count_by(db, model.status)
    return [_by_label(*by_status, "status", statuses, counts),
            _gauge(*depth, sum(counts.get(status, 0) for status in waiting)),
            _gauge(*age, _oldest_age(db, model.created_at, model.status.in_(waiting)))]


def deliveries_families(db) -> list:
    return _queue_families(
        db, Delivery, DeliveryStatus, UNFINISHED,
        ("hub_deliveries", "Deliveries by status (failed = will retry)."),
        ("hub_delivery_queue_depth", "Deliveries not finished yet (pending, delivering, failed)."),
        ("hub_delivery_oldest_pending_age_seconds", "Age of the oldest unfinished delivery (0 when none)."))


def delivery_queues_families(db) -> list:
    """Per queue (endpoint, session) that has waiting deliveries: how many, and the oldest one's age.

    Only queues with waiting deliveries get a series (they come and go with a flood), so the
    label set stays as small as the backlog's spread; read from the claim's index of waiting rows.
    """
    labels = ["endpoint", "session"]
    waiting = GaugeMetricFamily("hub_delivery_queue_waiting", "Deliveries waiting (due or to retry) per "
                                "endpoint and session; only queues with waiting deliveries.", labels=labels)
    age = GaugeMetricFamily("hub_delivery_queue_oldest_age_seconds", "Age of the oldest waiting delivery per "
                            "endpoint and session; only queues with waiting deliveries.", labels=labels)
    rows = db.execute(select(Delivery.endpoint_id, Delivery.session_id, func.count(), func.min(Delivery.created_at))
                      .where(Delivery.next_attempt_at.is_not(None)).group_by(Delivery.endpoint_id, Delivery.session_id))
    now = utcnow()
    for endpoint_id, session_id, count, oldest in rows:
        waiting.add_metric([endpoint_id, session_id or ""], count)
        age.add_metric([endpoint_id, session_id or ""], max(0.0, (now - oldest).total_seconds()))
    return [waiting, age]


def outbound_families(db) -> list:
    return _queue_families(
        db, Outbound, OutboundStatus, WAITING,
        ("hub_outbound", "Messages accepted by the send API, by status."),
        ("hub_outbound_queue_depth", "Sends waiting in the durable queue (queued or sending)."),
        ("hub_outbound_oldest_queued_age_seconds", "Age of the oldest waiting send (0 when none)."))


def media_families(db) -> list:
    stored = MediaFile.status == MediaStatus.STORED
    size, files = db.execute(select(func.coalesce(func.sum(MediaFile.file_size), 0), func.count())
                             .where(stored)).one()
    return [_gauge("hub_media_stored_bytes", "Bytes of downloaded media in the uploads directory.", size),
            _gauge("hub_media_stored_files", "Downloaded media files in the uploads directory.", files)]


class DatabaseCollector:
    """Computes the database-backed series at scrape time (one short `db` per family)."""

    FAMILIES = (sessions_families, events_families, deliveries_families, delivery_queues_families,
                outbound_families, media_families)

    def __init__(self, store):
        self.store = store

    def collect(self):
        for family in self.FAMILIES:
            try:
                with self.store.session() as db:
                    metrics = family(db)
            except SQLAlchemyError as exc:
                log.warning("metrics: %s skipped: %s", family.__name__, exc.__class__.__name__)
                continue
            yield from metrics


class GroupCommitCollector:
    """The writer's counters: writes per commit says how much grouping saves (hub/store/group.py)."""

    def __init__(self, store):
        self.writes = store.writes

    def collect(self):
        yield CounterMetricFamily("hub_db_group_commits", "Transactions committed by the group-commit writer.",
                                  value=self.writes.batches)
        yield CounterMetricFamily("hub_db_group_writes", "Writes committed in those transactions.",
                                  value=self.writes.writes)


class EngineCollector:
    """The engine bridge's threads and the simulated WhatsApp's counters (nothing until an engine ran)."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        from hub import sandbox
        from hub.sessions import bridge

        engine = bridge.peek()
        if engine is not None:
            yield CounterMetricFamily("hub_engine_dials", "Dials started (each in a new native thread).",
                                      value=engine.dials)
            yield CounterMetricFamily("hub_engine_abandoned_dials", "Dial threads that could not return after "
                                      "their Stop (goneonize's QR phase); never reused.", value=engine.abandoned_dials)
            yield _labelled("hub_engine_events_deferred", f"Events of a busy session (over {bridge.BUSY_EVENTS} a "
                            "second) handled only when the worker had nothing else to do, by session.", "session",
                            engine.deferred, CounterMetricFamily)
            yield _labelled("hub_engine_pool_threads", "Native threads of each engine call pool.", "pool",
                            engine.pools.threads(), GaugeMetricFamily)
            yield _labelled("hub_engine_calls_abandoned", "Engine calls abandoned at their deadline, by pool.",
                            "pool", engine.pools.abandoned, CounterMetricFamily)
        simulated = sandbox.existing(self.store)
        if simulated is not None:
            yield from simulated.network.metric_families(simulated.library)


def _labelled(name: str, documentation: str, label: str, values: dict, family):
    metric = family(name, documentation, labels=[label])
    for key, value in values.items():
        metric.add_metric([key], value)
    return metric


class ProcessInfo:
    """`hub_process_info{node,host,pid} 1`: which process answered this scrape."""

    def __init__(self, node):
        self.node = node

    def collect(self):
        info = GaugeMetricFamily("hub_process_info", "The hub process that answered this scrape (its cluster node "
                                 "id, host and pid).", labels=["node", "host", "pid"])
        info.add_metric([self.node.node_id, self.node.host, str(self.node.pid)], 1)
        yield info


class NodeLabelled:
    """This process's own series; in a cluster each carries `node`, so two processes' series never mix.

    What the database knows (sessions, queues, deliveries, attempt latency) is the cluster's and is
    the same from every process: it stays unlabelled.
    """

    def __init__(self, registry: CollectorRegistry, node):
        self.registry, self.node = registry, node

    def collect(self):
        for family in self.registry.collect():
            if self.node.clustered:
                family.samples = [sample._replace(labels={**sample.labels, "node": self.node.node_id})
                                  for sample in family.samples]
            yield family


class HubMetrics:
    """The metrics of one hub, in its own registry (tests run several hubs in one process)."""

    def __init__(self, store, node):
        self.store = store
        self.registry = CollectorRegistry()
        own = CollectorRegistry()  # this process's series (NodeLabelled)
        self.events = Counter("hub_events_recorded", "Events recorded by this process since it started, by type.",
                              ["type"], registry=own)
        for event_type in EVENT_TYPES:
            self.events.labels(event_type)
        self.latency = Histogram("hub_delivery_attempt_latency_seconds",
                                 "Time from POST to response of each delivery attempt, per endpoint.",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.limited = Counter("hub_api_limited_requests", "API requests refused with 429 (rate limit), by "
                               "caller: admin-N, a scoped key's id, or addr:<client address>.", ["key"],
                               registry=own)
        self.paced = Counter("hub_sends_paced", "Sends that waited for their session's pace (sendRate, "
                             "dailyLimit, newContactRate, HUB_SEND_INTERVAL), by session.", ["session"],
                             registry=own)
        self._last_attempt_id = 0
        self._lock = threading.Lock()
        self.registry.register(DatabaseCollector(store))
        own.register(GroupCommitCollector(store))
        own.register(EngineCollector(store))
        ProcessCollector(registry=own)
        self.registry.register(NodeLabelled(own, node))
        self.registry.register(ProcessInfo(node))

    def count_event(self, envelope: dict) -> None:
        """Bus callback: one more event of this type."""
        self.events.labels(envelope["type"]).inc()

    def observe_new_attempts(self) -> None:
        """Feed the latency histogram with the attempts stored since the previous call."""
        with self._lock:
            query = (select(Attempt.id, Delivery.endpoint_id, Attempt.latency_ms)
                     .join(Delivery, Delivery.id == Attempt.delivery_id)
                     .where(Attempt.id > self._last_attempt_id).order_by(Attempt.id)
                     .limit(ATTEMPTS_PER_SCRAPE))
            try:
                with self.store.session() as db:
                    rows = db.execute(query).all()
            except SQLAlchemyError as exc:
                log.warning("metrics: attempt latency skipped: %s", exc.__class__.__name__)
                return
            for attempt_id, endpoint_id, latency_ms in rows:
                if latency_ms is not None:
                    self.latency.labels(endpoint_id).observe(latency_ms / 1000)
                self._last_attempt_id = attempt_id

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape body in the format the scraper asked for, and its content type."""
        self.observe_new_attempts()
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


def start(context: HubContext, scheduler) -> None:
    """Background module: count every event the hub records from now on."""
    context.bus.add_callback(context.metrics.count_event)
