"""derive_facts: from a phone's payload shape to InspectionFacts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from fieldcheck.core.checks import check
from fieldcheck.core.facts import derive_facts
from fieldcheck.core.model import Dimension, Indicator, PostedStandard

from .helpers import CATALOGUE, METHODOLOGY, synthetic_methodology

ON = date(2026, 11, 20)


def test_payload_shapes_are_converted():
    f = derive_facts(
        {"MP-01": {"value": "no", "note": "tidak ada", "photos": []}, "SP-01": "yes"},
        [
            {
                "service": "adminduk.ktp-el",
                "components": ["persyaratan", "biaya"],
                "fee_idr": 25000,
                "max_days": None,
                "requirements": ["KK"],
            },
            SimpleNamespace(
                service="polri.skck",
                components=("biaya",),
                fee_idr=30000,
                max_days=1,
                requirements=(),
            ),
            PostedStandard("adminduk.kk", frozenset()),
        ],
        METHODOLOGY,
        ON,
    )
    assert f.visit_date == ON
    assert f.answers == {"MP-01": "no", "SP-01": "yes"}
    assert f.posted_standards == (
        PostedStandard(
            "adminduk.ktp-el", frozenset({"persyaratan", "biaya"}), 25000, None, ("KK",)
        ),
        PostedStandard("polri.skck", frozenset({"biaya"}), 30000, 1, ()),
        PostedStandard("adminduk.kk", frozenset()),
    )
    assert f.obligations == {"maklumat": "no", "standar_pelayanan": "yes"}


def test_obligation_answer_flows_into_a_finding():
    f = derive_facts({"MP-01": "no", "PG-02": "partial", "VM-01": "no"}, [], METHODOLOGY, ON)
    found = check(f, CATALOGUE)
    assert [(x.rule, x.citation) for x in found] == [
        ("obligation.unmet", "UU 25/2009 Pasal 15 huruf b dan Pasal 22 ayat (2)"),
        ("obligation.partial", "UU 25/2009 Pasal 36 ayat (4)"),
    ]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        pytest.param({"X1": "yes", "X2": "no"}, {"ob": "no"}, id="worst-answer-wins"),
        pytest.param({"X1": "na", "X2": "partial"}, {"ob": "partial"}, id="na-loses-to-partial"),
        pytest.param({"X1": "na"}, {"ob": "na"}, id="only-na"),
        pytest.param({"S": 0}, {"ob": "no"}, id="scale-low-is-no"),
        pytest.param({"S": 2}, {"ob": "partial"}, id="scale-middle-is-partial"),
        pytest.param({"S": 3}, {"ob": "yes"}, id="scale-high-is-yes"),
        pytest.param({}, {}, id="unanswered-no-obligation"),
    ],
)
def test_obligation_words(answers, expected):
    m = synthetic_methodology(
        (
            Indicator("X1", "d", "?", "yes_no", Decimal(1), obligation="ob"),
            Indicator("X2", "d", "?", "yes_no", Decimal(1), obligation="ob"),
            Indicator("S", "d", "?", ("scale", 0, 3), Decimal(1), obligation="ob"),
        ),
        dimensions=(Dimension("d", "D"),),
    )
    assert derive_facts(answers, [], m, ON).obligations == expected
