"""API rate limits under real gunicorn: a flooding key is refused while another keeps its latency; on
PostgreSQL a key's limit holds across two hub processes."""
from __future__ import annotations

import statistics
import threading
import time

import requests

from tests.integration.hubproc import HubProcess

ROUTE = "/api/sessions"  # a cheap keyed route (health is not limited)


def flood(url: str, key: str, total: int, seconds: float) -> list[requests.Response]:
    """`total` requests with `key`, spread evenly over `seconds` by 4 threads."""
    answers: list[requests.Response] = []
    start = time.monotonic()

    def worker(offset: int) -> None:
        http = requests.Session()
        for index in range(offset, total, 4):
            time.sleep(max(0.0, start + index * seconds / total - time.monotonic()))
            answers.append(http.get(url + ROUTE, headers={"X-API-Key": key}, timeout=10))

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def latencies(url: str, key: str, count: int, gap: float) -> list[float]:
    """Seconds per request of `count` requests with `key`, one every `gap` seconds (each must succeed)."""
    http, measured = requests.Session(), []
    for _ in range(count):
        began = time.monotonic()
        assert http.get(url + ROUTE, headers={"X-API-Key": key}, timeout=10).status_code == 200
        measured.append(time.monotonic() - began)
        time.sleep(gap)
    return measured


def test_a_key_at_20_per_second_flooding_200_requests_in_2_s_is_refused_while_another_key_is_not(tmp_path):
    with HubProcess(tmp_path, HUB_API_KEY="key-flood,key-calm", HUB_RATE_LIMIT="20/s burst 20") as hub:
        baseline = latencies(hub.url, "key-calm", 20, 0.02)
        during: list[float] = []
        calm = threading.Thread(target=lambda: during.extend(latencies(hub.url, "key-calm", 20, 0.08)))
        calm.start()
        answers = flood(hub.url, "key-flood", 200, 2.0)
        calm.join()
    allowed = [answer for answer in answers if answer.status_code == 200]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(allowed) + len(refused) == 200
    assert 20 + 30 <= len(allowed) <= 20 + 2.5 * 20 + 5  # the burst, then 20/s for about 2 s
    assert all(answer.headers["Retry-After"] == "1" for answer in refused)
    assert {answer.json()["error"] for answer in refused} == {"rate_limited"}
    # The calm key answered every time (asserted in latencies), as fast as before the flood within noise.
    assert statistics.median(during) < 3 * statistics.median(baseline) + 0.02, (baseline, during)


def test_on_postgresql_one_keys_limit_holds_across_two_hub_processes(pg_url, tmp_path):  # noqa: F811
    env = dict(HUB_DATABASE_URL=pg_url, HUB_RATE_LIMIT="10/s burst 10")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with HubProcess(tmp_path / "a", **env) as first, HubProcess(tmp_path / "b", **env) as second:
        clients = [(hub, requests.Session()) for hub in (first, second)]
        began = time.monotonic()
        statuses = [http.get(hub.url + ROUTE, headers={"X-API-Key": "integration-key"}, timeout=10).status_code
                    for index in range(60) for hub, http in [clients[index % 2]]]
        elapsed = time.monotonic() - began
    by_process = [statuses[0::2], statuses[1::2]]
    assert all(429 in answers for answers in by_process)  # each process refuses once the shared bucket is empty
    # One bucket for both: the burst plus what refilled meanwhile (two buckets would allow twice that).
    assert statuses.count(200) <= 10 + 10 * elapsed + 1, (statuses.count(200), elapsed)
