"""Pieces every benchmark shares."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def reset_pg_schema(url: str) -> str:
    """Drop and recreate the public schema at ``url`` (a scratch PostgreSQL database: everything
    in it is lost); returns the URL with the psycopg driver named."""
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
