"""The application layer: ``Habeas``, the one object every edge calls."""

from habeas.app.core import Habeas, Principal, Work

__all__ = ["Habeas", "Principal", "Work"]
