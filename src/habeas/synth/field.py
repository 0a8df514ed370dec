"""Synthetic field offices: four regions covering the 50 states and DC, three teams each,
starting from the office's city (ZIP centroids from the offline table)."""

from __future__ import annotations

from typing import Any

from habeas.field.confidence import zip_centroid

REGIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "NE",
        "Northeast field office (synthetic)",
        "10001",
        ("CT", "DC", "DE", "MA", "MD", "ME", "NH", "NJ", "NY", "PA", "RI", "VA", "VT", "WV"),
    ),
    (
        "SE",
        "Southeast field office (synthetic)",
        "30303",
        ("AL", "AR", "FL", "GA", "KY", "LA", "MS", "NC", "SC", "TN"),
    ),
    (
        "CE",
        "Central field office (synthetic)",
        "60601",
        ("IA", "IL", "IN", "KS", "MI", "MN", "MO", "ND", "NE", "OH", "OK", "SD", "TX", "WI"),
    ),
    (
        "WE",
        "West field office (synthetic)",
        "90012",
        ("AK", "AZ", "CA", "CO", "HI", "ID", "MT", "NM", "NV", "OR", "UT", "WA", "WY"),
    ),
)


def offices(teams_per_office: int = 3) -> list[dict[str, Any]]:
    """The synthetic offices with their teams, as ``Field.set_up`` takes them."""

    out = []
    for code, name, start_zip, states in REGIONS:
        where = zip_centroid(start_zip)
        assert where is not None, start_zip
        teams = [
            {
                "code": f"{code}-{k}",
                "start_label": f"{name.split(' field')[0]} office, ZIP {start_zip}",
                "start_lat": where[0],
                "start_lon": where[1],
                "shift_start": 6 * 60,
                "shift_end": 18 * 60,
            }
            for k in range(1, teams_per_office + 1)
        ]
        out.append({"code": code, "name": name, "states": list(states), "teams": teams})
    return out
