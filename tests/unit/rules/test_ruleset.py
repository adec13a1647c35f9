"""The default ruleset `ims-default@1` and its validation (rules.md: every threshold is data)."""

from __future__ import annotations

import copy
import json
import math

import pytest

from rules import DEFAULT_RULESET, SPEC, InvalidRuleset, load_ruleset, parse_ruleset_id

RULES_MD_VALUES = {
    "mcid_pain_points": 2, "mcid_pain_relative": 0.30, "mcid_function_points": 2,
    "partial_pain_points": 1, "partial_function_points": 1, "substantial_relative": 0.50,
    "flare_points": 2, "managed_pain_max": 2, "managed_function_min": 8, "severe_pain_min": 7,
    "chronic_weeks": 12, "initial_high_per_week": 2, "initial_low_per_week": 1,
    "initial_review_sessions": 2, "increase_soreness_max_hours": 48, "consistent_reports": 2,
    "initial_min_sessions": 3, "non_responder_sessions": 4, "non_responder_max_sessions": 6,
    "middle_start_weeks": 2, "middle_max_weeks": 4, "maintenance_start_weeks": 4,
    "maintenance_steps_weeks": [4, 8, 12], "min_gap_days": 3, "soreness_window_hours": 48,
    "max_expected_soreness_hours": 72, "window_early_factor": 0.75, "window_late_factor": 1.25,
    "missed_visits_in_a_row": 2,
    # "Caps, cancellations, check-ins and what-if": later parameters, defaults for older rulesets
    "authorization_warn_visits": 2, "authorization_warn_days": 7, "checkin_after_hours": 72,
}


def data(**params):
    """The default ruleset as data, with some parameters replaced (None deletes one)."""
    out = copy.deepcopy(DEFAULT_RULESET.to_dict())
    for key, value in params.items():
        if value is None:
            del out["parameters"][key]
        else:
            out["parameters"][key] = value
    return out


def rejected(payload) -> InvalidRuleset:
    with pytest.raises(InvalidRuleset) as caught:
        load_ruleset(payload)
    return caught.value


# -- the default ------------------------------------------------------------------------------

def test_the_default_ruleset_is_ims_default_version_1():
    assert DEFAULT_RULESET.id == "ims-default@1"
    assert (DEFAULT_RULESET.name, DEFAULT_RULESET.version) == ("ims-default", 1)


@pytest.mark.parametrize("name,value", sorted(RULES_MD_VALUES.items()), ids=sorted(RULES_MD_VALUES))
def test_every_parameter_of_rules_md_has_its_documented_value(name, value):
    got = DEFAULT_RULESET.parameters()[name]
    assert got == value and type(got) is type(value)


def test_the_default_has_exactly_the_parameters_of_rules_md():
    assert set(DEFAULT_RULESET.parameters()) == set(RULES_MD_VALUES) == set(SPEC)


def test_the_window_factors_are_exact_fractions():
    assert (DEFAULT_RULESET.early, DEFAULT_RULESET.late) == (0.75, 1.25)
    assert DEFAULT_RULESET.early.denominator == 4


# -- round trips ------------------------------------------------------------------------------

def test_to_dict_then_load_gives_an_equal_ruleset():
    assert load_ruleset(DEFAULT_RULESET.to_dict()) == DEFAULT_RULESET


def test_to_json_then_load_gives_an_equal_ruleset_and_the_same_json():
    again = load_ruleset(json.loads(DEFAULT_RULESET.to_json()))
    assert again == DEFAULT_RULESET and again.to_json() == DEFAULT_RULESET.to_json()


def test_to_dict_hands_out_a_copy_that_cannot_change_the_ruleset():
    d = DEFAULT_RULESET.to_dict()
    d["parameters"]["maintenance_steps_weeks"].append(16)
    assert DEFAULT_RULESET.maintenance_steps_weeks == (4, 8, 12)


def test_a_clinic_ruleset_with_its_own_thresholds_loads_and_is_identified():
    mine = data(mcid_pain_points=3, maintenance_steps_weeks=[4, 6, 8, 16])
    mine.update(name="clinic-a", version=3)
    rs = load_ruleset(mine)
    assert rs.id == "clinic-a@3" and rs.mcid_pain_points == 3
    assert rs.maintenance_steps_weeks == (4, 6, 8, 16)


def test_a_ruleset_is_immutable():
    with pytest.raises(AttributeError):
        DEFAULT_RULESET.mcid_pain_points = 5  # type: ignore[misc]


# -- rejections naming the parameter -----------------------------------------------------------

BAD_PARAMETERS = [
    ("mcid_pain_points", "2", "a string for a number"),
    ("mcid_pain_points", True, "a bool for a number"),
    ("chronic_weeks", 12.0, "a float for an integer"),
    ("chronic_weeks", "12", "a string for an integer"),
    ("chronic_weeks", False, "a bool for an integer"),
    ("consistent_reports", None, "missing"),
    ("mcid_pain_relative", 1.5, "a relative drop above 1"),
    ("mcid_pain_relative", -0.1, "a negative relative drop"),
    ("mcid_pain_relative", math.nan, "NaN"),
    ("flare_points", math.inf, "infinity"),
    ("min_gap_days", 15, "a minimum gap above 14 days"),
    ("soreness_window_hours", 337, "a soreness window above 336 h"),
    ("initial_high_per_week", 0, "zero visits a week"),
    ("window_early_factor", 0, "an early factor of 0"),
    ("window_early_factor", 1.01, "an early factor above 1"),
    ("window_late_factor", 0.99, "a late factor below 1"),
    ("maintenance_steps_weeks", [], "no maintenance steps"),
    ("maintenance_steps_weeks", [4, 8, 8], "repeated maintenance steps"),
    ("maintenance_steps_weeks", [8, 4, 12], "decreasing maintenance steps"),
    ("maintenance_steps_weeks", [4, 8.5, 12], "a fractional step"),
    ("maintenance_steps_weeks", [4, True, 12], "a bool step"),
    ("maintenance_steps_weeks", [4, 8, 53], "a step longer than a year"),
    ("maintenance_steps_weeks", "4,8,12", "steps as a string"),
    ("maintenance_steps_weeks", [1, 2, 3], "longest step shorter than maintenance start"),
    ("initial_low_per_week", 3, "low initial frequency above the high one"),
    ("middle_start_weeks", 5, "middle start beyond middle max"),
    ("middle_max_weeks", 5, "middle max beyond maintenance start"),
    ("non_responder_sessions", 7, "non-responder sessions beyond the maximum"),
    ("partial_pain_points", 3, "partial threshold above the MCID"),
]


@pytest.mark.parametrize("name,value,_case", BAD_PARAMETERS,
                         ids=[case for _, _, case in BAD_PARAMETERS])
def test_a_bad_parameter_is_rejected_naming_it(name, value, _case):
    exc = rejected(data(**{name: value}))
    assert exc.field == f"parameters.{name}"
    assert name in str(exc)


def test_an_unknown_parameter_is_rejected_naming_it():
    payload = data()
    payload["parameters"]["mcid_pain_pionts"] = 2
    assert rejected(payload).field == "parameters.mcid_pain_pionts"


def test_an_unknown_top_level_key_is_rejected_naming_it():
    payload = data()
    payload["author"] = "someone"
    assert rejected(payload).field == "author"


@pytest.mark.parametrize("key,value,field", [
    ("name", "IMS Default", "name"),
    ("name", "", "name"),
    ("name", None, "name"),
    ("version", 0, "version"),
    ("version", "1", "version"),
    ("version", True, "version"),
    ("version", 1.0, "version"),
    ("description", 42, "description"),
    ("description", "x" * 2001, "description"),
    ("parameters", [], "parameters"),
], ids=["name with spaces and capitals", "empty name", "no name", "version 0",
        "version as a string", "version True", "version as a float", "numeric description",
        "description too long", "parameters as a list"])
def test_malformed_identity_fields_are_rejected_naming_them(key, value, field):
    payload = data()
    payload[key] = value
    assert rejected(payload).field == field


@pytest.mark.parametrize("payload", [None, [], "ims-default@1", 42], ids=str)
def test_a_ruleset_that_is_not_an_object_is_rejected(payload):
    assert rejected(payload).field == "ruleset"


def test_the_first_missing_parameter_is_named():
    payload = data()
    payload["parameters"] = {}
    assert rejected(payload).field.startswith("parameters.")


def test_boundary_values_of_the_ranges_are_accepted():
    rs = load_ruleset(data(mcid_pain_relative=1, min_gap_days=0, window_early_factor=1,
                           window_late_factor=1, maintenance_steps_weeks=[4]))
    assert rs.min_gap_days == 0 and rs.maintenance_steps_weeks == (4,)


def test_equal_pairs_are_consistent():
    rs = load_ruleset(data(initial_low_per_week=2, middle_start_weeks=4,
                           non_responder_sessions=6, partial_pain_points=2))
    assert rs.initial_low_per_week == rs.initial_high_per_week == 2


# -- ruleset ids ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("ims-default@1", ("ims-default", 1)),
    ("clinic_a@12", ("clinic_a", 12)),
    ("x@1", ("x", 1)),
], ids=["the default", "underscore and two digits", "one-letter name"])
def test_parse_ruleset_id_splits_name_and_version(text, expected):
    assert parse_ruleset_id(text) == expected


@pytest.mark.parametrize("text", [
    "ims-default", "ims-default@", "@1", "ims-default@0", "ims-default@-1", "ims-default@1.0",
    "IMS@1", "ims default@1", "-ims@1", "a" * 65 + "@1", "ims@v1", "",
], ids=["no version", "empty version", "no name", "version 0", "negative version",
        "decimal version", "capitals", "space", "leading dash", "name too long",
        "v-prefixed version", "empty"])
def test_parse_ruleset_id_rejects_malformed_ids_naming_ruleset(text):
    with pytest.raises(InvalidRuleset) as caught:
        parse_ruleset_id(text)
    assert caught.value.field == "ruleset"


def test_parse_ruleset_id_rejects_a_superscript_version_as_malformed():
    with pytest.raises(InvalidRuleset):
        parse_ruleset_id("ims@²")
