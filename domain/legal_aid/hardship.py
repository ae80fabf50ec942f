"""The economic-hardship test: household per-capita monthly income <= local monthly minimum wage.

The figures come from `data/minimum_wage.yaml` (per tier, with effective dates) and the tier of
each district (also with effective dates). A tier figure recorded as unknown (`monthly: null`)
falls back to the tier's previous known figure, and the threshold says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.legal_aid.rules import MinimumWageTable, WageFigure

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Threshold:
    """The minimum-wage figure a hardship test used."""

    district: str | None  # None: no district given, and every district has this figure
    tier: str
    monthly: Decimal
    effective_from: date  # when the figure used took effect
    verified: bool  # the figure and the district's tier both verified
    fallback_from: date | None  # a newer figure of this tier (from this date) is unknown
    source: str

    @property
    def ref(self) -> str:
        """Identifier for a result's `rules_used`."""
        where = self.district or "all"
        return f"minimum_wage:{where}:{self.tier}:{self.effective_from.isoformat()}"


def _tier_figure(table: MinimumWageTable, tier: str,
                 as_of: date) -> tuple[WageFigure, date | None] | None:
    """The figure of `tier` on `as_of`, and the date of an unknown newer figure it replaces."""
    in_force = [f for f in table.tiers.get(tier, ()) if f.effective_from <= as_of]
    if not in_force:
        return None
    current = in_force[-1]
    if current.monthly is not None:
        return current, None
    known = [f for f in in_force if f.monthly is not None]
    if not known:
        return None
    return known[-1], current.effective_from


def threshold_for(table: MinimumWageTable, district: str | None,
                  as_of: date) -> Threshold | None:
    """The threshold in `district` on `as_of`.

    Without a district, the threshold is returned only if every district has the same figure;
    None when no figure is known for the date (or the district has no tier on it).
    """
    if district is None:
        found = [threshold_for(table, d, as_of) for d in table.districts]
        if not found or any(t is None for t in found):
            return None
        known = [t for t in found if t is not None]
        if len({t.monthly for t in known}) != 1:
            return None
        first = known[0]
        return Threshold(
            district=None, tier=first.tier, monthly=first.monthly,
            effective_from=first.effective_from,
            verified=all(t.verified for t in known), fallback_from=first.fallback_from,
            source=first.source,
        )
    assignments = [a for a in table.districts.get(district, ()) if a.effective_from <= as_of]
    if not assignments:
        return None
    assignment = assignments[-1]
    picked = _tier_figure(table, assignment.tier, as_of)
    if picked is None:
        return None
    figure, fallback_from = picked
    assert figure.monthly is not None
    return Threshold(
        district=district, tier=assignment.tier, monthly=figure.monthly,
        effective_from=figure.effective_from,
        verified=figure.verified and assignment.verified, fallback_from=fallback_from,
        source=figure.source,
    )


def per_capita(household_monthly_income: Decimal, household_size: int) -> Decimal:
    """Exact per-capita monthly income (not rounded: the comparison uses the exact value)."""
    if household_size < 1:
        raise ValueError("household_size must be at least 1")
    return household_monthly_income / Decimal(household_size)


def passes(household_monthly_income: Decimal, household_size: int,
           threshold: Threshold) -> bool:
    """Income exactly at the threshold passes (<=)."""
    return per_capita(household_monthly_income, household_size) <= threshold.monthly


def fmt_yuan(amount: Decimal) -> str:
    """2660 -> "2660", 2660.333 -> "2660.33", 4166.5 -> "4166.5"."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
