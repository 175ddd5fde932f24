"""The Elastic Beanstalk source bundle: a zip of the committed tree, what the instances need.

    .venv/bin/python -m deploy.bundle [--revision HEAD] [--output dist]   # make bundle

`git archive` of the revision, so nothing uncommitted and nothing ignored (.venv, .data,
node_modules, reports) can get in; `.gitattributes` leaves out what only development
uses (tests, benchmarks, the local stack, CI, docs). Prints the bundle's path.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(revision: str = "HEAD", output: Path = ROOT / "dist") -> Path:
    """Write dist/triggers-api-<commit>.zip from `revision`; its path."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short=12", f"{revision}^{{commit}}"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    bundle = output / f"triggers-api-{commit}.zip"
    subprocess.run(
        ["git", "archive", "--format=zip", f"--output={bundle}", commit],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return bundle


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.bundle", description=__doc__)
    parser.add_argument("--revision", default="HEAD", help="commit to bundle (default HEAD)")
    parser.add_argument("--output", type=Path, default=ROOT / "dist", help="directory")
    options = parser.parse_args(argv)
    print(build(options.revision, options.output))


if __name__ == "__main__":
    main()
