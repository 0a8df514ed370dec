"""Given-name equivalences: nicknames and hypocoristic forms mapped to one canonical name.

Each line is a canonical (folded) name and the forms people and clerks write for it.
A form listed under two names keeps the first; matching then scores the pair as a
"nickname" agreement, weaker than an exact match and learned from the data like any level.
"""

from __future__ import annotations

_GROUPS = """
william bill billy will willie liam wm
robert bob bobby rob robbie bert
richard rick ricky dick rich richie
james jim jimmy jamie
john jack johnny jon
joseph joe joey jose pepe
michael mike mikey mick
thomas tom tommy
charles charlie chuck chas
christopher chris kit topher
daniel dan danny
matthew matt
anthony tony antonio
edward ed eddie ted ned
elizabeth liz lizzie beth betty eliza libby bess
margaret maggie meg peggy marge greta
katherine kate katie kathy catherine kathryn cathy kat
jennifer jen jenny
patricia pat patty trish
susan sue susie suzanne
rebecca becky becca
deborah debbie deb
alexander alex sasha alejandro alexandre alessandro
alexandra sandra alexa
nicholas nick nicky nicolas nikolai
benjamin ben benny
samuel sam sammy
jonathan jon jonny
andrew andy drew andres andreas
steven steve stephen stefan esteban
francisco paco pancho frank francis franco
francesca frances fran
guadalupe lupe lupita
jesus chuy chucho
ignacio nacho
enrique kike henry harry hank heinrich
roberto beto
alberto beto al albert
eduardo lalo eddy
manuel manolo manny
rafael rafa
guillermo memo willy
concepcion concha conchita
dolores lola
mercedes meche
rosario charo chayo
mohammed muhammad mohammad mohamed muhammed mohamad mehmet
ahmed ahmad ahmet
abdullah abdallah
yusuf youssef yousef joseph
ibrahim ebrahim abraham
vladimir vova volodya
aleksandr sasha alexandr oleksandr
dmitri dmitry dima
ekaterina katya
yekaterina katya
natalia natasha natalya
ivan vanya
mikhail misha
olga olya
tatiana tanya tatyana
svetlana sveta
anastasia nastya
"""


def _table() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _GROUPS.strip().splitlines():
        names = line.split()
        for name in names:
            out.setdefault(name, names[0])
    return out


NICKNAMES: dict[str, str] = _table()
"""Folded given name → canonical given name."""


def canonical_given(name: str | None) -> str | None:
    """The canonical form of a folded given name (itself when it has no known nickname)."""
    if name is None:
        return None
    return NICKNAMES.get(name, name)
