"""URL guard: http(s) only; with blocking on, loopback/private/link-local hosts are refused."""
import pytest

from hub.delivery.urlguard import BlockedUrl, check_at_send_time, is_private, validate_url
from hub.errors import BadRequest


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/hook", "http://", "javascript:alert(1)",
                                 "http://exa mple.com/", "http://example.com:99999/", "", "http://" + "a" * 2050])
def test_invalid_urls_are_refused(url):
    with pytest.raises(BadRequest):
        validate_url(url, block_private=False)


def test_local_listeners_are_allowed_by_default():
    assert validate_url("http://localhost:3013/hook", block_private=False) == "http://localhost:3013/hook"


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost:3013/x", "http://10.1.2.3/x",
                                 "http://192.168.0.10/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]:8080/x", "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x"])
def test_private_targets_are_refused_when_blocking(url):
    with pytest.raises(BlockedUrl):
        validate_url(url, block_private=True)
    with pytest.raises(BlockedUrl):
        check_at_send_time(url, block_private=True)


def test_public_addresses_pass():
    assert not is_private("93.184.216.34")
    assert is_private("172.16.5.4")
    validate_url("https://93.184.216.34/hook", block_private=True)


def test_send_time_check_is_skipped_when_blocking_is_off():
    check_at_send_time("http://127.0.0.1/x", block_private=False)
