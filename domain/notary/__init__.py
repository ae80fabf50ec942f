"""The notary office finder (issue 6): pure logic, no Rasa and no database.

- `catalog.taxonomy()` → the matters (公证法 Arts. 11, 12) with their Art. 25/26 flags, and
  `resolve(text, service)` → the matter a message names; `check_terms` reads a directory entry;
- `places.find_districts` / `read_places` → the districts a message names and their roles;
- `search.decide` → where the matter goes (Art. 25) or what to ask; `search.search` → at most
  three ranked offices with "open now", or the city-wide fallback;
- `abroad.destination` → Apostille or consular legalisation; `texts` → what is said.
"""

from domain.notary.abroad import Destination, Status, destination, for_use_abroad
from domain.notary.catalog import (
    LEGAL_LIMIT_WORKING_DAYS,
    MatterRule,
    Taxonomy,
    Terms,
    check_terms,
    taxonomy,
)
from domain.notary.places import Mention, Places, Role, find_districts, read_places, role_of
from domain.notary.search import (
    CITY_WIDE,
    LIMIT,
    Basis,
    Found,
    Jurisdiction,
    Missing,
    Office,
    OpenNow,
    OpenState,
    Result,
    decide,
    open_now,
    search,
)

__all__ = [
    "CITY_WIDE",
    "LEGAL_LIMIT_WORKING_DAYS",
    "LIMIT",
    "Basis",
    "Destination",
    "Found",
    "Jurisdiction",
    "MatterRule",
    "Mention",
    "Missing",
    "Office",
    "OpenNow",
    "OpenState",
    "Places",
    "Result",
    "Role",
    "Status",
    "Taxonomy",
    "Terms",
    "check_terms",
    "decide",
    "destination",
    "find_districts",
    "for_use_abroad",
    "open_now",
    "read_places",
    "role_of",
    "search",
    "taxonomy",
]
