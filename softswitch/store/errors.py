"""Store exceptions.

::

    StoreError                  the database cannot be opened, migrated or written
    ├── SchemaVersionError      the file was written by a newer softswitch
    ├── DuplicateUserError      an extension that already exists was added
    └── UnknownUserError        an operation named an extension that does not exist
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["DuplicateUserError", "SchemaVersionError", "StoreError", "UnknownUserError"]


class StoreError(Exception):
    """Base class: anything the storage layer refuses or cannot do."""


class SchemaVersionError(StoreError):
    """Refuse to touch a database whose schema is newer than the code (a downgrade)."""


class DuplicateUserError(StoreError):
    """One or more extensions already exist; ``extensions`` lists them, sorted."""

    def __init__(self, extensions: Iterable[str]) -> None:
        self.extensions = tuple(sorted(extensions))
        super().__init__(f"extension already exists: {', '.join(self.extensions)}")


class UnknownUserError(StoreError):
    """The named extension is not in the directory."""

    def __init__(self, extension: str) -> None:
        self.extension = extension
        super().__init__(f"no such extension: {extension}")
