"""``python -m habeas``: the same command line as ``habeas``."""

from habeas.cli.main import run

if __name__ == "__main__":
    run()
