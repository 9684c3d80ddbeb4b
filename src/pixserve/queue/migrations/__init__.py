"""Alembic migrations of the jobs table (a package so that setuptools ships them)."""
