"""GET of inspections: visibility by role and region, filters, pagination, no N+1."""

from __future__ import annotations

import pytest

from tests.helpers import auth, count_queries, post_json

URL = "/api/v1/inspections"


@pytest.fixture
def posted(client, factory):
    """Three inspections: two by a Jawa Timur surveyor, one by a Sumatera Barat surveyor."""
    factory.units()
    _, jatim = factory.user("surveyor", "35")
    _, sumbar = factory.user("surveyor", "13")
    ids = [
        post_json(client, URL, factory.submission(), jatim).get_json()["id"],
        post_json(client, URL, factory.all_yes_submission("35.25-DUKCAPIL"), jatim).get_json()[
            "id"
        ],
        post_json(client, URL, factory.all_yes_submission("13.71-DUKCAPIL"), sumbar).get_json()[
            "id"
        ],
    ]
    return {"jatim": jatim, "sumbar": sumbar, "ids": ids}


def test_surveyor_sees_own_inspections_only(client, posted):
    jatim, sumbar = posted["jatim"], posted["sumbar"]
    listing = client.get(URL, headers=auth(jatim)).get_json()
    assert listing["total"] == 2 and {i["id"] for i in listing["items"]} == set(posted["ids"][:2])
    assert client.get(f"{URL}/{posted['ids'][2]}", headers=auth(jatim)).status_code == 404
    assert client.get(f"{URL}/{posted['ids'][2]}", headers=auth(sumbar)).status_code == 200


def test_supervisor_sees_their_region(client, factory, posted):
    _, supervisor = factory.user("supervisor", "35")
    listing = client.get(URL, headers=auth(supervisor)).get_json()
    assert {i["id"] for i in listing["items"]} == set(posted["ids"][:2])
    response = client.get(f"{URL}/{posted['ids'][2]}", headers=auth(supervisor))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_admin_sees_everything_with_filters_and_pages(client, factory, posted):
    _, admin = factory.user("admin")
    everything = client.get(URL, headers=auth(admin)).get_json()
    assert everything["total"] == 3
    by_unit = client.get(f"{URL}?unit=35.25-DUKCAPIL", headers=auth(admin)).get_json()
    assert [i["unit_code"] for i in by_unit["items"]] == ["35.25-DUKCAPIL"]
    page = client.get(f"{URL}?per_page=2&page=2", headers=auth(admin)).get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 2, 3, 1)
    assert client.get(f"{URL}?status=received", headers=auth(admin)).get_json()["total"] == 3
    later = client.get(f"{URL}?since=2999-01-01T00:00:00%2B07:00", headers=auth(admin))
    assert later.get_json()["total"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "per_page=abc",
        "status=done",
        "since=yesterday",
        "colour=red",
        # Past what an id column or Python's dates hold (SQLite's driver and the UTC conversion
        # raised OverflowError: a 500; PostgreSQL's INTEGER refused 2**31).
        f"surveyor={2**31}",
        f"surveyor={2**63}",
        "since=0001-01-01T00:00:00%2B07:00",
        "since=9999-12-31T23:00:00-05:00",
        "unit=%00",
    ],
)
def test_bad_list_arguments_are_422(client, posted, query):
    response = client.get(f"{URL}?{query}", headers=auth(posted["jatim"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    # The field path is the parameter named.
    assert list(error["details"]["fields"]) == [query.split("=")[0]]


def test_a_repeated_argument_says_so(client, posted):
    response = client.get(f"{URL}?status=received&status=approved", headers=auth(posted["jatim"]))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"] == {
        "status": ["Give this parameter once."]
    }


def test_an_id_past_32_bits_is_404_on_every_id_route(client, posted):
    for url in (f"{URL}/{2**63}", f"{URL}/{2**31}", f"{URL}/{2**31 - 1}"):
        response = client.get(url, headers=auth(posted["jatim"]))
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "not_found"
    response = client.post(f"{URL}/{2**31}/review", json={}, headers=auth(posted["jatim"]))
    assert response.status_code == 404


def test_per_page_is_capped(client, factory, posted):
    _, admin = factory.user("admin")
    assert client.get(f"{URL}?per_page=100000", headers=auth(admin)).get_json()["per_page"] == 500


def test_list_query_count_does_not_grow_with_rows(client, factory, app, posted):
    _, admin = factory.user("admin")
    with count_queries(app) as few:
        client.get(URL, headers=auth(admin))
    for _ in range(4):
        post_json(client, URL, factory.all_yes_submission("35.25-DUKCAPIL"), posted["jatim"])
    with count_queries(app) as more:
        client.get(URL, headers=auth(admin))
    assert len(more) == len(few)


def test_one_inspection_shows_answers_and_breakdown(client, posted):
    data = client.get(f"{URL}/{posted['ids'][0]}", headers=auth(posted["jatim"])).get_json()
    assert data["answers"]["MP-01"]["value"] == "partial"
    codes = {i["code"] for i in data["breakdown"]["indicators"]}
    assert {"SP-01", "SV-BIAYA"} <= codes
    assert data["posted_standards"][0]["service"] == "adminduk.ktp-el"
