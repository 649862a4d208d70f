"""Where Roundtable finds the files that ship beside the package (templates, migrations, examples).

In a source checkout or an editable install they sit at the repository root,
two levels above this package; in a container they are copied to the working
directory. ``ROUNDTABLE_HOME`` overrides both.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import roundtable


@lru_cache(maxsize=1)
def project_root() -> Path:
    """The folder that holds ``templates/``, ``migrations/`` and ``examples/``."""
    override = os.environ.get("ROUNDTABLE_HOME")
    candidates = [Path(override)] if override else []
    candidates += [Path(roundtable.__file__).resolve().parents[2], Path.cwd()]
    for candidate in candidates:
        if (candidate / "migrations" / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        "cannot find Roundtable's migrations/ and templates/; set ROUNDTABLE_HOME to the "
        "folder that contains them"
    )


def migrations_dir() -> Path:
    return project_root() / "migrations"


def examples_dir() -> Path:
    return project_root() / "examples"
