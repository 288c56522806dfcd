"""The offline planner's parts: slot extraction, argument mapping, intent classification."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from agent.planner import arguments
from agent.planner.intents import intent_model
from agent.planner.slots import Vocabulary, extract
from prompts import planner_examples
from warehouse.calendar import FiscalCalendar

VOCAB = Vocabulary(
    as_of=date(2026, 11, 29),  # FY2027-Q4 of a February fiscal year
    calendar=FiscalCalendar(2),
    regions=("NA", "EMEA", "APAC", "LATAM"),
    segments=("Enterprise", "Mid-Market", "SMB"),
    products=("Core Platform", "Analytics"),
    reps={"Emma Park": "R-00016"},
    scenarios=("emea-up", "west rebalance"),
)


@pytest.mark.parametrize(
    ("text", "periods"),
    [
        ("pipeline this quarter", ["FY2027-Q4"]),
        ("forecast next quarter", ["FY2028-Q1"]),
        ("win rate last quarter", ["FY2027-Q3"]),
        ("bookings next year", ["FY2028"]),
        ("hire to make FY27", ["FY2027"]),
        ("Q1 FY2028 bookings", ["FY2028-Q1"]),
        ("H2 outlook", ["FY2027-H2"]),
        ("bookings in September 2026", ["2026-09"]),
        ("Q3 fy28 pipeline", ["FY2028-Q3"]),
    ],
)
def test_periods(text: str, periods: list[str]) -> None:
    assert [p.name for p in extract(text, VOCAB).periods] == periods


def test_bare_quarters_look_ahead_when_over() -> None:
    slots = extract("Q3 pipeline", VOCAB)
    assert [p.name for p in slots.periods] == ["FY2027-Q3"]  # this fiscal year's, as written
    assert [p.name for p in slots.future(VOCAB)] == ["FY2028-Q3"]  # next one, for forward-looking asks


@pytest.mark.parametrize(
    ("text", "amounts", "percents"),
    [
        ("allocate a $48M target", [48e6], []),
        ("we need 1.5 million more", [1.5e6], []),
        ("target of $75,000,000", [75e6], []),
        ("raise quotas 10%", [], [10.0]),
        ("cut quotas by five percent", [], [-5.0]),
        ("a 5 month ramp and 250k per rep", [250e3], []),
    ],
)
def test_amounts_and_percents(text: str, amounts: list[float], percents: list[float]) -> None:
    slots = extract(text, VOCAB)
    assert slots.amounts == amounts and slots.percents == percents


def test_names_aliases_and_fuzzy_matching() -> None:
    assert extract("quotas in Europe and north america", VOCAB).regions == ["EMEA", "NA"]
    assert extract("mid market and small business reps", VOCAB).segments == ["Mid-Market", "SMB"]
    assert extract("how is Emma Parc doing", VOCAB).reps == ["R-00016"]  # a typo still matches
    assert extract("na na na", VOCAB).regions == []  # a short code must be written as the code
    assert extract("compare 'emea-up' and west rebalance", VOCAB).scenarios == ["emea-up", "west rebalance"]


def test_thresholds_counts_breakdowns() -> None:
    slots = extract("who is below 50% attainment by rep", VOCAB)
    assert slots.threshold == ("below", 0.5) and slots.by == ["rep"]
    assert extract("we need three more AEs", VOCAB).counts == [3]
    assert extract("win rate 5 points higher", VOCAB).points == [5.0]


def test_arguments_per_intent() -> None:
    def args(intent: str, text: str) -> dict:
        return arguments.for_intent(intent, text, extract(text, VOCAB), VOCAB)

    assert args("metrics", "What's Q3 pipeline in EMEA?") == {
        "metric": "pipeline",
        "period": "FY2028-Q3",
        "filters": {"region": ["EMEA"]},
    }
    assert args("metrics", "who is below 50% attainment last quarter") == {
        "metric": "attainment",
        "period": "FY2027-Q3",
        "by": ["rep"],
        "below": 0.5,
    }
    assert args("quota", "What if we raise EMEA quotas 10%?") == {
        "adjustments": [{"dim": "region", "value": "EMEA", "pct": 10.0}]
    }
    territory = args("territory", "Rebalance NA so no rep carries more than 105% of average potential")
    assert territory["filters"] == {"region": ["NA"]} and territory["band"] == pytest.approx(0.05)
    assert args("capacity", "How many AEs must we hire to make FY28 at 80% confidence?") == {
        "period": "FY2028",
        "confidence": "p80",
    }
    assert args("capacity", "what if attrition is 25% with a hiring freeze from June")["attrition"] == 0.25
    assert args("forecast", "forecast the next 4 quarters by region") == {"by": ["region"], "horizon": 4}
    assert args("forecast", "if win rates go up 5 points")["what_if"] == {"win_rate_pts": 5.0}
    assert args("scenarios", "compare emea-up and west rebalance") == {
        "action": "compare",
        "names": ["emea-up", "west rebalance"],
    }


def test_follow_up_replaces_what_it_names() -> None:
    previous = {"metric": "win_rate", "period": "FY2027-Q3", "by": ["segment"]}
    text = "and for APAC?"
    assert arguments.follow_up("metrics", previous, text, extract(text, VOCAB), VOCAB) == {
        **previous,
        "filters": {"region": ["APAC"]},
    }
    quota = {"adjustments": [{"dim": "region", "value": "EMEA", "pct": 10.0}]}
    text = "now with 15%"
    assert arguments.follow_up("quota_simulate", quota, text, extract(text, VOCAB), VOCAB) == {
        "adjustments": [{"dim": "region", "value": "EMEA", "pct": 15.0}]
    }


def test_classifier_generalises_to_held_out_wordings() -> None:
    examples = planner_examples()
    model = intent_model()
    texts, labels = zip(*examples.held_out, strict=True)
    predicted = [model.classify(t)[0].name for t in texts]
    accuracy = float(np.mean([p == y for p, y in zip(predicted, labels, strict=True)]))
    assert len(examples.held_out) > 150
    assert accuracy >= 0.9, accuracy


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("What's Q3 pipeline in EMEA?", ["metrics"]),
        ("How many AEs must we hire to make FY27?", ["capacity"]),
        ("Rebalance the West so no rep carries more than 105% of average potential", ["territory"]),
        ("forecast Q3 and tell me how many reps to hire", ["forecast", "capacity"]),
        ("check the data quality, then compare scenario a and b", ["data_check", "scenarios"]),
        ("what's the weather tomorrow", ["out_of_scope"]),
        ("and for APAC?", ["followup"]),
    ],
)
def test_intents(text: str, intents: list[str]) -> None:
    assert [i.name for i in intent_model().classify(text)] == intents


def test_the_trained_planner_is_kept_between_processes(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from agent.planner import intents

    question = "forecast next quarter by region"
    try:
        intents.reset()
        trained = intents.intent_model(tmp_path).scores([question])
        (stored,) = tmp_path.glob("planner-*.pkl")
        assert planner_examples().digest in stored.name  # keyed by the examples it learnt from

        def no_training(examples):  # type: ignore[no-untyped-def]
            raise AssertionError("a fresh process must load the cached model, not train")

        intents.reset()
        monkeypatch.setattr(intents, "train", no_training)
        assert intents.intent_model(tmp_path).scores([question]) == trained
        monkeypatch.undo()
        stored.write_bytes(b"not a model")  # a damaged cache costs a retrain, never an error
        intents.reset()
        assert intents.intent_model(tmp_path).scores([question]) == trained
    finally:
        intents.reset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rebalance NA so no rep carries more than 105% of average potential, moving as little ARR as possible",
         {"band": 0.05, "filters": {"region": ["NA"]}}),
        ("Rebalance APAC within 10%, moving no more than 20% of the value",
         {"band": 0.1, "max_disruption": 0.2, "filters": {"region": ["APAC"]}}),
        ("What's the least disruptive way to get EMEA within 10%?", {"band": 0.1, "filters": {"region": ["EMEA"]}}),
        ("rebalance NA within 5% but no rep loses more than 12 accounts",
         {"band": 0.05, "max_change_per_rep": 12, "max_accounts": None}),
        ("Show me the trade-off between balance and disruption for LATAM territories",
         {"pareto": [], "filters": {"region": ["LATAM"]}}),
        ("Carve a territory for the APAC hire who starts next quarter", {"open_seats": True, "filters": {"region": ["APAC"]}}),
        ("rebalance EMEA including our open reqs", {"open_seats": True}),
        ("rebalance EMEA within 10%", {"open_seats": None, "band": 0.1}),
    ],
)  # fmt: skip
def test_a_band_of_the_average_is_not_read_as_a_cap_on_moves(text: str, expected: dict) -> None:  # type: ignore[type-arg]
    args = arguments.territory(text, extract(text, VOCAB), VOCAB)
    assert {k: args.get(k) for k in expected} == expected
    assert ("max_disruption" in args) == ("max_disruption" in expected)
