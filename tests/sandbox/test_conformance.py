"""The simulated goneonize has goneonize's exported functions, with the arity neonize's _binder declares.

Two checks: every function the simulator defines is a real goneonize export taking the arguments
`_binder.py` declares (argtypes); and every library function the hub's code paths reach (recorded
while a representative flow runs through the API) is one the simulator defines.
"""
from __future__ import annotations

import base64
import inspect

from neonize._binder import gocode as real_library

from hub.sandbox.library import Goneonize
from tests import media_samples

# neonize passes one argument more than _binder declares for these (ctypes forwards extras).
EXTRA_ARGUMENT = {"IsOnWhatsApp"}


def exported(cls) -> dict[str, inspect.Signature]:
    """The simulator's goneonize functions, its mixins' (hub.sandbox.groups.GroupCalls) included."""
    return {name: inspect.signature(member) for klass in reversed(cls.__mro__[:-1])
            for name, member in vars(klass).items() if callable(member) and name[:1].isupper()}


def test_every_simulated_function_is_a_goneonize_export_with_its_arity():
    for name, signature in exported(Goneonize).items():
        real = getattr(real_library, name)  # AttributeError: the simulator invented a function
        declared = len(real.argtypes or [])
        parameters = [p for p in signature.parameters.values() if p.name != "self"]
        required = [p for p in parameters if p.default is inspect.Parameter.empty]
        assert len(required) == declared, f"{name}: {len(required)} arguments, _binder declares {declared}"
        if name in EXTRA_ARGUMENT:
            assert len(parameters) == declared + 1, name


def test_every_library_function_the_hub_reaches_exists_in_the_simulator(client, hub):
    library = hub.sessions.simulator().library
    reached: set[str] = set()
    for name in exported(Goneonize):
        original = getattr(library, name)

        def recording(*args, _name=name, _original=original):
            reached.add(_name)
            return _original(*args)
        setattr(library, name, recording)
    original_getattr = type(library).__getattribute__

    def spy(self, name):  # anything the hub asks for that the simulator lacks
        if name[:1].isupper() and not hasattr(type(self), name) and name not in vars(self):
            reached.add(name)
        return original_getattr(self, name)
    type(library).__getattribute__ = spy
    try:
        run_representative_flow(client)
    finally:
        del type(library).__getattribute__
    assert reached, "no library call was recorded"
    missing = {name for name in reached if not hasattr(Goneonize, name)}
    assert not missing, f"the hub reaches {sorted(missing)}, which the simulator lacks"
    assert {"Neonize", "SendMessage", "Upload", "DownloadAny", "Stop", "Logout", "PairPhone", "CreateGroup",
            "UpdateGroupParticipants", "SetGroupTopic", "GetGroupInviteLink", "LeaveGroup"} <= reached


def run_representative_flow(client) -> None:
    """Connect, pair, send every kind, receive media and download it, log out."""
    client.post("/api/sessions", json={"sessionId": "pairing", "engine": "sandbox", "start": True})
    assert client.post("/api/sessions/pairing/pair", json={"phone": "51987654321"}).status_code == 200
    client.post("/api/sessions", json={"sessionId": "shop", "engine": "sandbox", "start": True})
    assert client.post("/api/sandbox/shop/scan", json={}).status_code == 200
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    for media in ({"base64": b64(media_samples.png()), "mimetype": "image/png"},
                  {"base64": b64(b"%PDF-1.4\n%%EOF\n"), "mimetype": "application/pdf", "filename": "a.pdf"},
                  {"base64": b64(media_samples.wav()), "mimetype": "audio/wav", "voice": True},
                  {"base64": b64(media_samples.mp4()), "mimetype": "video/mp4"},
                  {"base64": b64(media_samples.webp()), "mimetype": "image/webp"}):
        answer = client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321", "media": media})
        assert answer.status_code == 200, answer.get_json()
    assert client.post("/api/whatsapp/send", json={"sessionId": "shop", "to": "51987654321",
                                                   "message": "hola"}).status_code == 200
    inbound = {"from": "51999111222", "media": {"base64": b64(media_samples.png()), "mimetype": "image/png"}}
    assert client.post("/api/sandbox/shop/inbound", json=inbound).status_code == 200
    run_group_flow(client, "shop")
    assert client.post("/api/sessions/shop/logout").status_code == 200


def run_group_flow(client, session_id: str) -> None:
    """Every group route once."""
    base = f"/api/sessions/{session_id}/groups"
    created = client.post(base, json={"subject": "Equipo", "participants": ["51987654321"]})
    assert created.status_code == 201, created.get_json()
    group = base + "/" + created.get_json()["group"]["groupId"]
    assert client.get(base).status_code == client.get(group).status_code == 200
    assert client.patch(group, json={"subject": "E2", "description": "d", "announce": True,
                                     "locked": True}).status_code == 200
    for action in ("promote", "demote", "remove", "add"):
        answer = client.post(group + "/participants", json={"action": action, "participants": ["51987654321"]})
        assert answer.status_code == 200, answer.get_json()
    assert client.get(group + "/invite-link?reset=true").status_code == 200
    assert client.post(group + "/leave").status_code == 200
