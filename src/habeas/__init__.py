"""habeas: immigration case work where every action shows its lawful basis."""

__version__ = "0.1.0"
