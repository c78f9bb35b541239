"""Company names as technographic evidence: the bundled S&P 500 list (GICS sectors) placed
on the Business Technology tree, so that "Salesforce CRM Users" or "Snowflake
Administrators" go to the software or service the company sells.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from jobcore.classify.taxonomy import DATA_DIR

COMPANIES_FILE = DATA_DIR / "catalog" / "sp500_constituents.csv"

_COMPANY_SUFFIX = re.compile(
    r"(,?\s+(?:(?:&|and)\s+)?(inc\.?|incorporated|corporation|corp\.?|company|co\.|holdings|"
    r"group|plc|ltd\.?|technologies|\(class [a-z]\)))+\s*$",
    re.IGNORECASE,
)


def clean_company_name(name: str) -> str:
    """'Oracle Corporation' -> 'Oracle', 'Alphabet Inc. (Class A)' -> 'Alphabet',
    'McCormick & Company' -> 'McCormick' (not 'McCormick &').
    """
    return _COMPANY_SUFFIX.sub("", name).strip()


def load_companies(path: Path = COMPANIES_FILE) -> list[tuple[str, str, str]]:
    """(name, GICS sector, GICS sub-industry) of the bundled S&P 500 list."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["Security"], row["GICS Sector"], row["GICS Sub-Industry"])
                for row in csv.DictReader(handle)]


def company_places(b2b_tree: dict, companies: list[tuple[str, str, str]]
                   ) -> dict[str, tuple[str, str]]:
    """Lower-cased short company name -> (category, subcategory) on the Business Technology
    tree, for the companies whose sector the tree covers (or named in its overrides).
    """
    overrides = b2b_tree["company_overrides"]
    mapping = b2b_tree["gics_sub_industry_map"]
    places: dict[str, tuple[str, str]] = {}
    for name, sector, sub_industry in companies:
        short = clean_company_name(name)
        place = overrides.get(short) or (
            mapping.get(sub_industry) if sector in b2b_tree["company_sectors"] else None)
        if place and len(short) >= 3:
            places[short.casefold()] = (place[0], place[1])
    return places
