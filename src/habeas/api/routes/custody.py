"""Custody and transport: placements, occupancy, the removal transport plan and manifests."""

from __future__ import annotations

from fastapi import APIRouter

from habeas.api.deps import C, H, edge
from habeas.api.schemas import Day, Lock, LockOut, Place, TransportOut, transport_out
from habeas.app.custody import FacilityLoad, PlacementOut

router = APIRouter()


@router.post("/custody/placements", tags=["custody"], status_code=201)
@edge
def place(h: H, c: C, body: Place) -> PlacementOut:
    """Place or transfer a person; refused when the facility is full."""
    return h.custody.place(
        c.principal,
        c.purpose,
        body.case_id,
        body.facility,
        body.on or h.today(),
        body.reason,
    )


@router.get("/custody/occupancy", tags=["custody"])
@edge
def occupancy(h: H, c: C) -> list[FacilityLoad]:
    """Beds held and free per facility."""
    return h.custody.occupancy(c.principal, c.purpose)


@router.post("/transport/plan", tags=["custody"])
@edge
def transport_plan(h: H, c: C, body: Day) -> TransportOut:
    """Plan removal transport (min-cost flow, greedy beside)."""
    return transport_out(h.custody.plan(c.principal, c.purpose, body.on or h.today()))


@router.post("/transport/book", tags=["custody"])
@edge
def transport_book(h: H, c: C, body: Day) -> TransportOut:
    """Plan and book the seated people onto manifests (each gated again)."""
    report, booking = h.custody.book(c.principal, c.purpose, body.on or h.today())
    return transport_out(report, booking)


@router.post("/transport/lock", tags=["custody"])
@edge
def transport_lock(h: H, c: C, body: Lock) -> LockOut:
    """Lock a flight's manifest, taking off whoever no longer passes the gate."""
    lock = h.custody.lock(c.principal, c.purpose, body.flight, body.on or h.today())
    return LockOut(flight=lock.flight, kept=lock.kept, taken_off=lock.taken_off)
