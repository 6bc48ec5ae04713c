"""whatsmeow events.CallOffer (goneonize main.go: eventType 36, EncodeBasicCallMeta / EncodeNode) → call-received."""
from __future__ import annotations

from neonize.proto import Neonize_pb2 as N

from hub.sessions import builders
from hub.sessions.mapping import map_event


def offer(creator: str, alt: str | None = None, video: bool = False, group: bool = False) -> N.CallOffer:
    media = [N.Node(Tag="audio", Nil=True)] + ([N.Node(Tag="video", Nil=True)] if video else [])
    attrs = [N.NodeAttrs(name="call-id", text="ABC")] + ([N.NodeAttrs(name="group-jid", text="1-2@g.us")]
                                                          if group else [])
    return N.CallOffer(basicCallMeta=N.BasicCallMeta(**{"from": builders.jid(creator)}, timestamp=1796040000,
                                                     callCreator=builders.jid(creator),
                                                     callCreatorAlt=builders.jid(alt), callID="ABC"),
                       callRemoteMeta=N.CallRemoteMeta(remotePlatform="android", remoteVersion="2"),
                       data=N.Node(Tag="offer", Attrs=attrs, Nodes=media))


def test_a_voice_call_from_a_phone_number():
    draft = map_event(N.CallOffer.FromString(offer("51911000001@s.whatsapp.net").SerializeToString()))
    assert draft.type == "call-received"
    assert draft.data == {"callId": "ABC", "from": "51911000001@s.whatsapp.net", "isVideo": False,
                          "isGroup": False, "rejected": False, "timestamp": "2026-11-30T12:00:00.000Z"}


def test_a_video_group_call_from_a_lid_shows_the_phone_number():
    draft = map_event(offer("123451234512345@lid", "51911000002@s.whatsapp.net", video=True, group=True))
    assert draft.data["from"] == "51911000002@s.whatsapp.net" and draft.data["fromLid"] == "123451234512345@lid"
    assert draft.data["isVideo"] is True and draft.data["isGroup"] is True


def test_a_lid_caller_without_alt_is_resolved_by_the_store():
    draft = map_event(offer("123451234512345@lid"), resolve_lid=lambda lid: "51911000003@s.whatsapp.net")
    assert draft.data["from"] == "51911000003@s.whatsapp.net"
