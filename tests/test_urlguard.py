"""URL guard: http(s) only, no userinfo or backslash; with blocking on, only global addresses, resolved once."""
import socket

import pytest

from hub import urlguard
from hub.errors import BadRequest
from hub.urlguard import BlockedUrl, check, is_public, validate_url


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/hook", "http://", "javascript:alert(1)",
                                 "http://exa mple.com/", "http://example.com:99999/", "", "http://" + "a" * 2050,
                                 "http://exa\tmple.com/", "http://example.com/\x00"])
def test_invalid_urls_are_refused(url):
    with pytest.raises(BadRequest):
        validate_url(url, block_private=False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8111\\@1.1.1.1/metadata", "http://user:pw@127.0.0.1/x",
                                 "http://127.0.0.1\\.example.com/", "https://a@example.com/", "http://@127.0.0.1/",
                                 "http://127.0.0.1/x\\y"])
@pytest.mark.parametrize("block_private", [False, True])
def test_userinfo_and_backslashes_are_refused_whatever_the_setting(url, block_private):
    with pytest.raises(BadRequest) as refused:
        validate_url(url, block_private=block_private)
    assert refused.value.code == "invalid_url"


def test_local_listeners_are_allowed_by_default():
    assert validate_url("http://localhost:3013/hook", block_private=False) == "http://localhost:3013/hook"
    assert check("http://localhost:3013/hook", block_private=False).address is None  # the client resolves


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:3013/x", "http://10.1.2.3/x",
                                 "http://192.168.0.10/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]:8080/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x",
                                 "http://100.100.100.200/latest/meta-data", "http://192.0.0.8/x",
                                 "http://[2002:a9fe:a9fe::1]/x", "http://[64:ff9b::a9fe:a9fe]/x", "http://2130706433/x"])
def test_non_public_targets_are_refused_when_blocking(url):
    with pytest.raises(BlockedUrl):
        validate_url(url, block_private=True)


# Not globally reachable; several of them pass `ipaddress.is_private` or even `is_global` on 3.11.
NOT_PUBLIC = ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0", "255.255.255.255",
              "100.64.0.1", "100.127.255.254",  # shared address space (cloud metadata at 100.100.100.200)
              "192.0.0.8", "192.0.0.9", "198.18.0.1", "240.0.0.1", "224.0.0.1",
              "::1", "::", "fe80::1", "fc00::1", "ff02::1", "2001:db8::1",
              "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1",  # IPv4-mapped and -compatible
              "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:6440:1::1",  # 6to4 of loopback, link-local, 100.64/10
              "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
              "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808"]  # NAT64 (well-known, local-use)
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1",
          "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public(address):
    assert is_public(address)


def fake_dns(monkeypatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Resolve the names in `answers` to their next answer each time (DNS rebinding); returns the lookups."""
    lookups, real = [], socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        addresses = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port or 0))
                for a in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def test_a_name_is_refused_when_any_of_its_addresses_is_not_public(monkeypatch):
    fake_dns(monkeypatch, {"mixed.test": [["93.184.216.34", "10.0.0.5"]]})
    with pytest.raises(BlockedUrl) as refused:
        check("https://mixed.test/hook", block_private=True)
    assert "10.0.0.5" in refused.value.message


def test_the_checked_address_is_pinned_and_the_name_kept_for_host_and_tls(monkeypatch):
    lookups = fake_dns(monkeypatch, {"crm.test": [["93.184.216.34"], ["127.0.0.1"]]})
    destination = check("https://crm.test:8443/hook?x=1#frag", block_private=True)
    assert (destination.address, destination.host, destination.netloc, destination.port, destination.target) == \
        ("93.184.216.34", "crm.test", "crm.test:8443", 8443, "/hook?x=1")
    assert lookups == ["crm.test"]  # resolved once


def test_blocked_url_is_a_bad_request_with_its_own_code():
    with pytest.raises(BlockedUrl) as refused:
        validate_url("http://[fd00::1]/x", block_private=True)
    assert refused.value.status == 400 and refused.value.code == "url_not_allowed"


def test_resolution_failure_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such name")
    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(BlockedUrl):
        urlguard.check("http://nowhere.test/", block_private=True)
