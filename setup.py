"""Build hook: the wheel carries the explorer and GraphiQL pages, built from ``web/``.

Everything else is declared in ``pyproject.toml``. The package reaches the
files the running program reads through links inside it (``lineage/_schema``
to ``schema/``, ``api/static`` to ``web/dist``); a built wheel or sdist holds
copies. Building a wheel from a checkout builds the pages first with
``scripts/build-web`` (Node.js 20+ and npm); from an sdist, the pages it
carries are used as they are.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PAGES = ROOT / "api" / "static"


class BuildWithPages(build_py):
    """``build_py`` that makes sure the built web pages are there to be packaged."""

    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            # setuptools never empties build/lib: a module removed since the
            # last build would otherwise ship in the wheel.
            shutil.rmtree(self.build_lib, ignore_errors=True)
            build_web = ROOT / "scripts" / "build-web"
            if build_web.is_file():
                try:
                    subprocess.run([str(build_web)], check=True)
                except (OSError, subprocess.CalledProcessError) as error:
                    raise SystemExit(
                        "building the wheel needs the explorer's pages, and scripts/build-web "
                        f"failed ({error}): install Node.js 20+ with npm, then build again"
                    ) from error
            if not (PAGES / "index.html").is_file() or not (PAGES / "graphiql.html").is_file():
                raise SystemExit(
                    f"no built web pages at {PAGES}: run scripts/build-web (Node.js 20+ and "
                    "npm) before building the package"
                )
        super().run()


setup(cmdclass={"build_py": BuildWithPages})
