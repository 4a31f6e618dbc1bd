"""pvd_reporting: quarterly reporting of the Petites villes de demain programme.

The library behind the `pvd-report` command; each command is one call here.
"""

from __future__ import annotations

__version__ = "0.1.0"
