"""ctx.domains (DomainMap): the lookups the redirect makes, and which row a host name means."""

from __future__ import annotations

import pytest

from qrstudio_box.domains.service import DomainEntry, DomainMap


def entry(domain_id, hostname="go.example.test", status="active", workspace_id=1):
    return DomainEntry(domain_id, workspace_id, hostname, status, "")


@pytest.fixture
def domains():
    return DomainMap("https://QR.Agency.example:8443/", "https")


def test_the_public_host_is_lower_case_without_port(domains):
    assert domains.public_host == "qr.agency.example"
    assert domains.base_url(entry(1)) == "https://go.example.test"


@pytest.mark.parametrize("host", ["go.example.test", "GO.example.TEST", "go.example.test."])
def test_by_host_folds_case_and_the_final_dot(domains, host):
    domains.remember(entry(1))
    assert domains.by_host(host) == entry(1)


@pytest.mark.parametrize("host", ["", "example.test", "go.example.test:443", "qr.agency.example"])
def test_by_host_of_other_names_is_none(domains, host):
    domains.remember(entry(1))
    assert domains.by_host(host) is None


@pytest.mark.parametrize(
    "rows,expected_id",
    [
        ([entry(1, status="deleted"), entry(2)], 2),  # the name taken again
        ([entry(1), entry(2, status="deleted")], 1),  # an older deletion never hides a live one
        ([entry(1, status="deleted"), entry(2, status="deleted")], 2),  # the newest deletion
        ([entry(1, status="pending")], 1),
    ],
)
def test_a_live_domain_wins_over_deleted_rows_of_its_name(domains, rows, expected_id):
    domains.replace_all(rows)
    assert domains.by_host("go.example.test").id == expected_id
    fresh = DomainMap("https://qr.agency.example", "https")
    for row in rows:  # the same, one write at a time
        fresh.remember(row)
    assert fresh.by_host("go.example.test").id == expected_id
    assert {domains.by_id(row.id) for row in rows} == set(rows)


def test_a_reread_started_before_a_write_does_not_undo_it(domains):
    version = domains._version
    domains.remember(entry(1, status="active"))  # committed while the reread was reading
    assert domains.replace_all([entry(1, status="pending")], version) is False
    assert domains.by_host("go.example.test").status == "active"
    assert domains.replace_all([entry(1, status="pending")], domains._version) is True
    assert domains.by_host("go.example.test").status == "pending"


def test_deleting_changes_the_entry_in_place(domains):
    domains.remember(entry(1))
    domains.remember(entry(1, status="deleted"))
    assert domains.by_host("go.example.test").status == "deleted"
    assert domains.by_host("go.example.test").is_active is False


@pytest.mark.parametrize("host", ["qr.agency.example", "QR.agency.example.", "qr.agency.example.."])
def test_the_appliances_own_host_is_never_branded_whatever_a_row_says(domains, host):
    # A row for the box's own name (public_url moved onto a name a workspace holds, or a
    # spelling check_hostname missed) must not take the admin UI and the default codes away.
    domains.remember(entry(1, hostname="qr.agency.example"))
    assert domains.by_host(host) is None
