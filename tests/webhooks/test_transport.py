"""The delivery client against real receivers on 127.0.0.1 (HTTP and HTTPS via trustme)."""

import asyncio

import pytest

from qrstudio_box.webhooks import transport
from qrstudio_box.webhooks.urlsafety import UnresolvableHost, UrlPolicy, vet_url

from .receivers import Receiver, TlsFiles, refused_port

LOCAL = UrlPolicy(allow_http=True, allow_private_targets=True)


def mapping_resolver(names: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        raise UnresolvableHost(host)

    return resolve


def send(url, *, policy=LOCAL, resolver=None, ca_bundle=None, deadline=5.0, body=b"{}"):
    async def go():
        client = transport.build_client(
            policy=policy, resolver=resolver or mapping_resolver({}), ca_bundle=ca_bundle
        )
        async with client:
            return await transport.post(
                client, url, body, {"Content-Type": "application/json"}, deadline_seconds=deadline
            )

    return asyncio.run(go())


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return TlsFiles.make(tmp_path_factory.mktemp("tls"), names=("receiver.test",))


def test_https_with_ca_bundle_dials_vetted_ip_and_keeps_hostname(tls):
    with Receiver(tls=tls) as receiver:
        result = send(
            receiver.url_for("receiver.test"),
            resolver=mapping_resolver({"receiver.test": ["127.0.0.1"]}),
            ca_bundle=str(tls.ca_file),
            body=b'{"a":1}',
        )
        assert (result.status_code, result.error) == (200, "")
        assert result.ok
        assert receiver.requests[0].body == b'{"a":1}'
        assert receiver.requests[0].headers["host"] == f"receiver.test:{receiver.port}"


def test_tls_hostname_check_stays_when_dialing_the_ip(tls):
    # other.test resolves to the same receiver, whose certificate does not name it
    with Receiver(tls=tls) as receiver:
        result = send(
            receiver.url_for("other.test"),
            resolver=mapping_resolver({"other.test": ["127.0.0.1"]}),
            ca_bundle=str(tls.ca_file),
        )
        assert result.status_code is None
        assert result.error.startswith("TLS error:")
        assert "other.test" in result.error or "mismatch" in result.error.lower()
        assert receiver.requests == []


def test_untrusted_ca_without_bundle_is_a_tls_error(tls):
    with Receiver(tls=tls) as receiver:
        result = send(receiver.url)
        assert result.status_code is None
        assert result.error.startswith("TLS error:") and "certificate" in result.error


def test_dns_rebinding_public_then_private_is_refused_at_connect():
    answers = [["93.184.216.34"], ["127.0.0.1"]]

    async def rebinding(host, port):
        return answers.pop(0)

    with Receiver() as receiver:
        url = receiver.url_for("rebind.test")
        policy = UrlPolicy(allow_http=True)  # private targets NOT allowed
        # subscription time: the name looks public
        asyncio.run(vet_url(url, policy, rebinding))
        # send time: it now answers loopback, and nothing is dialed
        result = send(url, policy=policy, resolver=rebinding)
        assert result.status_code is None
        assert result.error == (
            "Refused at connect time: rebind.test resolves to a non-public address "
            "(a loopback address); webhook targets must be public"
        )
        assert receiver.requests == []


def test_refused_connection_is_reported():
    port = refused_port()
    result = send(f"http://127.0.0.1:{port}/hook")
    assert result.status_code is None
    assert result.error == f"Connection refused by 127.0.0.1:{port}"


def test_deadline_cuts_a_slow_receiver():
    with Receiver(delay=3.0) as receiver:
        result = send(receiver.url, deadline=0.5)
        assert result.status_code is None
        assert result.error == "Read timed out (no answer within 0.5 s)"
        assert len(receiver.requests) == 1


def test_redirect_is_not_followed():
    with Receiver() as target, Receiver(status=302, headers={"Location": "X"}) as redirector:
        redirector.reply.headers["Location"] = target.url
        result = send(redirector.url)
        assert result.status_code == 302
        assert result.error == f"Redirect not followed: HTTP 302 to {target.url}"
        assert not result.ok
        assert target.requests == []


def test_response_body_is_capped():
    with Receiver(status=500, body=b"x" * 1_000_000) as receiver:
        result = send(receiver.url)
        assert result.status_code == 500
        assert result.error == "HTTP 500: not a 2xx answer"
        assert len(result.response_body) == transport.RESPONSE_KEEP


def test_retry_after_header_is_exposed():
    with Receiver(status=429, headers={"Retry-After": "600"}) as receiver:
        result = send(receiver.url)
        assert (result.status_code, result.retry_after) == (429, "600")


def send_many(urls_in_waves, *, ca_bundle=None):
    """Waves of concurrent POSTs through ONE client (keep-alive across them); their results."""

    async def go():
        async with transport.build_client(
            policy=LOCAL, resolver=mapping_resolver({}), ca_bundle=ca_bundle
        ) as client:
            results = []
            for wave in urls_in_waves:
                results += await asyncio.gather(
                    *(transport.post(client, url, b"{}", {}, deadline_seconds=5.0) for url in wave)
                )
            return results

    return asyncio.run(go())


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_sequential_sends_reuse_one_connection(secure, tls):
    with Receiver(tls=tls if secure else None) as receiver:
        results = send_many([[receiver.url]] * 5, ca_bundle=str(tls.ca_file) if secure else None)
        assert [r.status_code for r in results] == [200] * 5
        assert len({request.peer_port for request in receiver.requests}) == 1
        assert receiver.requests[0].headers["host"] == f"127.0.0.1:{receiver.port}"
        assert receiver.requests[0].headers["content-length"] == "2"


def test_concurrent_sends_open_a_connection_each_then_reuse_them():
    with Receiver(delay=0.2) as receiver:
        results = send_many([[receiver.url] * 3, [receiver.url] * 3])
        assert [r.status_code for r in results] == [200] * 6
        first, second = receiver.requests[:3], receiver.requests[3:]
        assert len({r.peer_port for r in first}) == 3
        assert {r.peer_port for r in second} == {r.peer_port for r in first}


def test_a_connection_the_endpoint_closes_is_not_reused():
    with Receiver(headers={"Connection": "close"}) as receiver:
        results = send_many([[receiver.url]] * 3)
        assert [(r.status_code, r.error) for r in results] == [(200, "")] * 3
        assert len({request.peer_port for request in receiver.requests}) == 3


def test_interleaved_origins_each_keep_their_connection():
    with Receiver() as one, Receiver() as two:
        results = send_many([[one.url], [two.url], [one.url], [two.url]])
        assert [r.status_code for r in results] == [200] * 4
        assert len(one.requests) == len(two.requests) == 2
        assert len({r.peer_port for r in one.requests}) == 1
        assert len({r.peer_port for r in two.requests}) == 1
