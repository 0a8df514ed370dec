"""The resolution model: comparisons, blocking rules and training rules, as data.

One model serves every data set: a comparison joins the model when its column is
present in enough records, so a source's column mapping is the only thing that differs.
Location is scored once (ZIP with distance), never city and ZIP both, which would
count the same evidence twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import splink.comparison_level_library as cll
from splink import block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_library import CustomComparison

EM_MAX_ITERATIONS = 8
"""EM iterations per training session: parameters settle well before Splink's default 25."""

MIN_PRESENT = 0.01
"""A column joins the model when at least this share of records has a value."""

D = "duckdb"  # the dialect custom SQL is written in; Splink translates it for Spark


def _custom(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label, base_dialect_str=D)


def given_name() -> ComparisonCreator:
    """Given names: exact, nickname, initial, near spelling, swapped with family, sound."""
    return CustomComparison(
        output_column_name="given",
        comparison_levels=[
            cll.NullLevel("given"),
            cll.ExactMatchLevel("given", term_frequency_adjustments=True),
            _custom(
                "given_dm_l = family_dm_r AND family_dm_l = given_dm_r",
                "given and family swapped (sound alike)",
            ),
            _custom("given_canon_l = given_canon_r", "same name or nickname"),
            cll.JaroWinklerLevel("given", 0.92),
            _custom("given_sk_l = given_sk_r", "same transliteration skeleton"),
            _custom("given_l = family_r OR family_l = given_r", "one name in the other's place"),
            _custom(
                "list_contains(name_tokens_r, given_l) OR list_contains(name_tokens_l, given_r)",
                "given name among the other's names (any field, any order)",
            ),
            _custom(
                "(length(given_l) = 1 OR length(given_r) = 1) AND "
                "substr(given_l, 1, 1) = substr(given_r, 1, 1)",
                "initial agrees",
            ),
            _custom("given_dm_l = given_dm_r", "sounds alike (double metaphone)"),
            cll.JaroWinklerLevel("given", 0.8),
            cll.ElseLevel(),
        ],
    )


def family_name() -> ComparisonCreator:
    """Family names: exact, near, one part of a compound shared, found among the other's
    names, sound. A swap with the given name is weighed once, under given names."""
    return CustomComparison(
        output_column_name="family",
        comparison_levels=[
            cll.NullLevel("family"),
            cll.ExactMatchLevel("family", term_frequency_adjustments=True),
            # a swap is one coincidence, weighed once under given names: no weight here
            _custom(
                "given_dm_l = family_dm_r AND family_dm_l = given_dm_r",
                "given and family swapped (weighed under given names)",
            ).configure(is_null_level=True),
            cll.JaroWinklerLevel("family", 0.95),
            _custom("family_sk_l = family_sk_r", "same transliteration skeleton"),
            cll.ArrayIntersectLevel("family_tokens", min_intersection=1).configure(
                label_for_charts="shares a part of a compound surname"
            ),
            _custom(
                "family_l = given_r OR given_l = family_r",
                "one name in the other's place (weighed under given names)",
            ).configure(is_null_level=True),
            _custom(
                "array_length(array_intersect(family_tokens_l, name_tokens_r)) >= 1 OR "
                "array_length(array_intersect(family_tokens_r, name_tokens_l)) >= 1",
                "family name among the other's names (a surname read as a middle name)",
            ),
            _custom("family_dm_l = family_dm_r", "sounds alike (double metaphone)"),
            cll.JaroWinklerLevel("family", 0.8),
            cll.ElseLevel(),
        ],
    )


def date_of_birth() -> ComparisonCreator:
    """Dates of birth at their precision: a date known only to the year or month agrees
    with another only as far as both go; whole dates exact, swapped, one digit off, near."""
    partial = "(length(dob_str_l) < 10 OR length(dob_str_r) < 10)"
    return CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob_str"),
            _custom(
                f"{partial} AND length(dob_str_l) >= 7 AND length(dob_str_r) >= 7 AND "
                "substr(dob_str_l, 1, 7) = substr(dob_str_r, 1, 7)",
                "same year and month (one date known only to the month)",
            ),
            _custom(
                f"{partial} AND substr(dob_str_l, 1, 4) = substr(dob_str_r, 1, 4)",
                "same year (one date known only to the year)",
            ),
            _custom(
                f"{partial} AND abs(CAST(substr(dob_str_l, 1, 4) AS INTEGER) - "
                "CAST(substr(dob_str_r, 1, 4) AS INTEGER)) <= 1",
                "within a year (one date partial)",
            ),
            _custom(partial, "partial date, years apart"),
            # term frequencies: a placeholder date (1 January of a year) says little
            cll.ExactMatchLevel("dob_str", term_frequency_adjustments=True),
            _custom(
                "substr(dob_str_l, 1, 4) = substr(dob_str_r, 1, 4) AND "
                "substr(dob_str_l, 6, 2) = substr(dob_str_r, 9, 2) AND "
                "substr(dob_str_l, 9, 2) = substr(dob_str_r, 6, 2)",
                "day and month swapped",
            ),
            cll.LevenshteinLevel("dob_str", 1),
            cll.AbsoluteTimeDifferenceLevel(
                "dob", input_is_string=False, threshold=1, metric="year"
            ),
            cll.AbsoluteTimeDifferenceLevel(
                "dob", input_is_string=False, threshold=10, metric="year"
            ),
            cll.ElseLevel(),
        ],
    )


def identifier(column: str, near: bool) -> ComparisonCreator:
    """An identifier: exact, or (for keyed-in numbers) one digit or transposition off."""
    levels: list[Any] = [cll.NullLevel(column), cll.ExactMatchLevel(column)]
    if near:
        levels.append(cll.DamerauLevenshteinLevel(column, 1))
    levels.append(cll.ElseLevel())
    return CustomComparison(output_column_name=column, comparison_levels=levels)


def location() -> ComparisonCreator:
    """Where the person lives: same ZIP, then distance between addresses."""
    return CustomComparison(
        output_column_name="location",
        comparison_levels=[
            _custom(
                "(zip_l IS NULL OR zip_r IS NULL) AND (lat_l IS NULL OR lat_r IS NULL)",
                "no address on one side",
            ).configure(is_null_level=True),
            cll.ExactMatchLevel("zip"),
            cll.DistanceInKMLevel("lat", "lon", 10),
            cll.DistanceInKMLevel("lat", "lon", 100),
            cll.ElseLevel(),
        ],
    )


def free_text(column: str, near: float | None = None) -> ComparisonCreator:
    """A short text (place of birth, occupation, postal code): exact, optionally near."""
    levels: list[Any] = [
        cll.NullLevel(column),
        cll.ExactMatchLevel(column, term_frequency_adjustments=True),
    ]
    if near is not None:
        levels.append(cll.JaroWinklerLevel(column, near))
    levels.append(cll.ElseLevel())
    return CustomComparison(output_column_name=column, comparison_levels=levels)


def postal_code() -> ComparisonCreator:
    """A non-U.S. postal code: exact, the same outward part (district), or one typo off."""
    return CustomComparison(
        output_column_name="postal_code",
        comparison_levels=[
            cll.NullLevel("postal_code"),
            cll.ExactMatchLevel("postal_code"),
            _custom(
                "split_part(postal_code_l, ' ', 1) = split_part(postal_code_r, ' ', 1)",
                "same district",
            ),
            cll.DamerauLevenshteinLevel("postal_code", 1).configure(
                label_for_charts="one character off (a typo)"
            ),
            cll.ElseLevel(),
        ],
    )


def sex() -> ComparisonCreator:
    """Recorded sex: agrees or not (weak evidence, often wrong in records)."""
    return CustomComparison(
        output_column_name="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )


@dataclass(frozen=True)
class Feature:
    """A comparison and the input columns whose presence brings it into the model."""

    name: str
    columns: tuple[str, ...]
    build: Any


FEATURES: tuple[Feature, ...] = (
    Feature("given", ("given",), given_name),
    Feature("family", ("family",), family_name),
    Feature("dob", ("dob",), date_of_birth),
    Feature("a_number", ("a_number",), lambda: identifier("a_number", near=True)),
    Feature("taxpayer_id", ("taxpayer_id",), lambda: identifier("taxpayer_id", near=True)),
    Feature("passport", ("passport",), lambda: identifier("passport", near=False)),
    Feature("fbi_number", ("fbi_number",), lambda: identifier("fbi_number", near=False)),
    Feature("license", ("license",), lambda: identifier("license", near=False)),
    Feature("national_id", ("national_id",), lambda: identifier("national_id", near=True)),
    Feature("phone", ("phone",), lambda: identifier("phone", near=False)),
    Feature("location", ("zip", "lat"), location),
    Feature("postal_code", ("postal_code",), postal_code),
    Feature("city", ("city",), lambda: free_text("city", 0.92)),
    Feature("place_of_birth", ("place_of_birth",), lambda: free_text("place_of_birth", 0.9)),
    Feature("occupation", ("occupation",), lambda: free_text("occupation")),
    Feature("sex", ("sex",), sex),
)

STRONG_IDENTIFIERS = ("a_number", "taxpayer_id", "passport", "fbi_number", "license", "national_id")


def present_features(share: dict[str, float]) -> list[Feature]:
    """The features whose columns are filled in at least ``MIN_PRESENT`` of records.

    The city is where a person lives only when no ZIP code or coordinates say it better:
    scoring both would count one address twice.
    """
    present = [f for f in FEATURES if any(share.get(c, 0.0) >= MIN_PRESENT for c in f.columns)]
    if any(f.name == "location" for f in present):
        present = [f for f in present if f.name != "city"]
    return present


def blocking_rules(features: list[Feature]) -> list[BlockingRuleCreator]:
    """Candidate pairs: identifiers, phonetic names with birth dates, names with places."""
    names = {f.name for f in features}
    rules: list[BlockingRuleCreator] = [
        block_on(ident) for ident in (*STRONG_IDENTIFIERS, "phone") if ident in names
    ]
    rules += [
        block_on("family_dm", "dob_full"),
        block_on("family_sk", "dob_full"),
        block_on("given_dm", "dob_full"),
        block_on("dob_full", "given_initial"),
        block_on("dob_full", "family_initial"),
        block_on("dob_full", "region"),
        block_on("name_key", "substr(dob_str, 1, 4)"),
        block_on("name_key_last", "substr(dob_str, 1, 4)"),
        block_on("given_canon", "family", "region"),
        block_on("rare_name"),
        block_on("rare_family"),
    ]
    # a one-word name may be either name (``Prout`` in a given-name column): each
    # record's given name against the other's family name, both ways round
    places = (("zip", "location"), ("postal_code", "postal_code"), ("place_of_birth",) * 2)
    anchors = ["dob_full"] + [column for column, feature in places if feature in names]
    for anchor in anchors:
        for a, b in (("given_dm", "family_dm"), ("family_dm", "given_dm")):
            rules.append(CustomRule(f"l.{a} = r.{b} AND l.{anchor} = r.{anchor}", sql_dialect=D))
    if "location" in names:
        rules.append(block_on("dob_full", "zip"))
        rules.append(block_on("name_key", "zip"))
        rules.append(block_on("name_key_last", "zip"))
    if "postal_code" in names:
        rules.append(block_on("dob_full", "postal_code"))
        rules.append(block_on("family_dm", "postal_code"))
        rules.append(block_on("given_dm", "postal_code"))
        rules.append(block_on("given_initial", "family_initial", "postal_code"))
    if "place_of_birth" in names:
        rules.append(block_on("family_dm", "place_of_birth"))
        rules.append(block_on("given_dm", "place_of_birth", "substr(dob_str, 1, 3)"))
        rules.append(block_on("given_dm", "place_of_birth"))
    if "occupation" in names:
        rules.append(block_on("family_dm", "occupation"))
    return rules


def training_blocks(features: list[Feature]) -> list[BlockingRuleCreator]:
    """EM sessions: each fixes some columns so the others' parameters can be learned.

    A comparison is never trained in a session whose block conditions on its own column
    (Splink leaves it out), so each name is trained where only the other name's initial
    and the birth date are fixed, and the birth date where both names and place are.
    Blocks stay at a few million pairs for a million records.
    """
    names = {f.name for f in features}
    sessions: list[BlockingRuleCreator] = [  # initials as columns of their own, so that
        block_on("dob_full", "family_initial"),  # the names' comparisons stay trainable
        block_on("dob_full", "given_initial"),
    ]
    if "location" in names:
        sessions.append(block_on("given", "family", "zip"))
    elif "postal_code" in names:
        sessions.append(block_on("given", "family", "postal_code"))
    else:
        sessions.append(block_on("given", "family"))
    return sessions


def deterministic_rules(features: list[Feature]) -> list[str]:
    """Rules that almost surely mean the same person: a strong identifier and the birth date."""
    names = {f.name for f in features}
    rules = [f"l.{i} = r.{i} AND l.dob_full = r.dob_full" for i in STRONG_IDENTIFIERS if i in names]
    rules.append("l.given = r.given AND l.family = r.family AND l.dob_full = r.dob_full")
    return rules


def settings(features: list[Feature]) -> Any:
    """The Splink settings (a ``SettingsCreator``) for these features, before training."""
    from splink import SettingsCreator

    rules: list[Any] = blocking_rules(features)
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[f.build() for f in features],
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        max_iterations=EM_MAX_ITERATIONS,
        em_convergence=0.001,
    )
