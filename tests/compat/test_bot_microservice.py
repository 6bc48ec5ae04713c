"""The multi-session bot microservice against the hub (tests/compat/js/bot.cjs, axios).

Written from issue 12 and README.md ("Moving from the older services") (the service's docs are not
in this repository): the hub runs with the bot's own token in API_STATIC_TOKEN (no HUB_API_KEY),
which the bot sends as a Bearer token; two bots on two numbers; send-message {sessionId, number,
text}, send-media with a data URL, and the conversation read back from /api/messages/<id>.
"""
from __future__ import annotations

from tests.compat.node import require_node, run_client
from tests.integration.hubproc import HubProcess

TOKEN = "bot-static-token-4c1e"


def test_bot_microservice_works_with_its_own_token(tmp_path):
    require_node()
    with HubProcess(tmp_path, HUB_API_KEY="", API_STATIC_TOKEN=TOKEN) as hub:
        hub.http.headers["X-API-Key"] = TOKEN
        report = run_client("bot.cjs", hub.url, API_STATIC_TOKEN=TOKEN)
        [text] = hub.sandbox_sent("bot_ventas")
        [image] = hub.sandbox_sent("bot_soporte")
        assert (text["messageId"], text["text"]) == (report["textMessageId"], "Hola, soy el bot de ventas")
        assert (image["messageId"], image["kind"], image["text"]) == (report["mediaMessageId"], "image", "Captura")
        assert sorted(report["history"]) == [["in", "quiero el catálogo"], ["out", "Hola, soy el bot de ventas"]]
        assert TOKEN not in hub.logs()
