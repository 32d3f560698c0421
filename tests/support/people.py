"""The people of the tests' council, each named once.

Two kinds: the standing roles (`roles.yaml` beside this module) and the four sample
children's people (`council.SAMPLE`), who have names; and numbered people made up for an
allocation (`people(n)`: auditor1@, sw1@, ...), for tests that need many audits.
"""

from __future__ import annotations

from audits.model import Participants

# Standing roles, as roles.yaml gives them.
QA_OFFICER = "quinn.qa@council.example"
QA_MANAGER = "maya.qamanager@council.example"
HEAD_OF_SERVICE = "hana.hos@council.example"  # help and protection; disabilities
HEAD_OF_SERVICE_CARE = "carl.hos@council.example"  # children in care; care experienced

# The people of the first sample child, 1234567 (council.SAMPLE[0]).
AUDITOR = "ava.auditor@council.example"  # also audits the fourth child
SW = "sam.social@council.example"
IRO = "ira.iro@council.example"  # also IRO/CP chair of the second child
MOD = "mo.moderator@council.example"  # also moderates the second child
TM = "tia.manager@council.example"
SM = "sol.service@council.example"

STRANGER = "stranger@council.example"  # known in the directory, no role on any audit


def name_of(address: str) -> str:
    """The display name the tests' directory gives an address, as the sandbox's does:
    "ava.auditor@council.example" is Ava Auditor."""
    return " ".join(part.capitalize() for part in address.split("@")[0].split("."))


def people(n: int = 1) -> Participants:
    """The numbered people of an allocation: auditor{n}@, sw{n}@, iro{n}@, ..."""
    return Participants(
        social_worker=f"sw{n}@council.example",
        auditor=f"auditor{n}@council.example",
        iro=f"iro{n}@council.example",
        moderator=f"moderator{n}@council.example",
        team_manager=f"tm{n}@council.example",
        service_manager=f"sm{n}@council.example",
    )
