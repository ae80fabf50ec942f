"""The action server's handle on the case database, opened lazily on first use."""

from __future__ import annotations

import os
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casedb.engine import DEFAULT_DATABASE_URL, create_engine, session_factory


@cache
def sessions() -> async_sessionmaker[AsyncSession]:
    """One engine per action-server process; no connection is made until a query runs."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    return session_factory(create_engine(url, schema=os.environ.get("DATABASE_SCHEMA") or None))
