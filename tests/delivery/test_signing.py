"""Standard Webhooks signing: the published test vector, and what the PyPI verifier accepts."""
import json

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hub.delivery.signing import generate_secret, secret_key, sign, signature_headers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_standard_webhooks_test_vector():
    signature = sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_generated_secret_verifies_with_the_pypi_package():
    secret = generate_secret()
    body = json.dumps({"id": "evt_1", "type": "message-received"}).encode()
    headers = signature_headers(secret, "evt_1", body)
    assert Webhook(secret).verify(body, headers) == {"id": "evt_1", "type": "message-received"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


@pytest.mark.parametrize("secret", ["abc", "whsec_", "whsec_!!notbase64", "whsec_YWJj"])
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValueError):
        secret_key(secret)
