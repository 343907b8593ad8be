"""Foundation versions compared as versions, not as text (standard library only).

One release has many spellings: the tag `v0.2.0`, the manifest's `0.2.0`, PEP 440's `0.2.0+local`. A render
from a commit past a tag (`git describe`: `v0.2.0-3-gabc1234`, PEP 440: `0.2.0.post3.dev0+gabc1234`) sits just
after that release and before the next one. A render from a commit no tag reaches (a bare hash,
`unreleased`, `0.0.0.post5.dev0+gabc1234`) is "unreleased": behind every release, never an error.

The same file is `src/agent_foundation/versions.py` (the platform's CLI) and
`template/.claude/foundation/versions.py` (update.py in every team repository); tests/test_versions.py
checks the two are byte-identical, so the fleet, rollout, history and update.py can never disagree.
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple, Optional

UNRELEASED = "unreleased"

_SEMVER = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    r"(?:-(?P<pre>(?:rc|alpha|beta|a|b|pre)[.-]?\d*))?"  # a pre-release: v1.0.0-rc.1
    r"(?:-(?P<distance>\d+)-g[0-9a-f]+)?"  # git describe: commits past the tag
    r"(?:\.post(?P<post>\d+))?(?:\.dev\d+)?"  # PEP 440 form of the same
    r"(?:\+[0-9A-Za-z.-]*)?$",  # a local label (+dirty, +gabc1234): the same release
    re.IGNORECASE,
)


class Version(NamedTuple):
    """A comparable version: (major, minor, patch, pre-release rank, commits past the tag)."""

    major: int
    minor: int
    patch: int
    pre: tuple  # () for a final release; a pre-release sorts before it
    distance: int  # 0 for the tagged commit itself

    @property
    def is_release(self) -> bool:
        return self.distance == 0 and not self.pre

    @property
    def release(self) -> str:
        """The canonical name of the release this version is (or is past): 0.2.0, 1.0.0-rc.1."""
        base = f"{self.major}.{self.minor}.{self.patch}"
        return base + (f"-{self.pre[1]}" if self.pre else "")

    def __str__(self) -> str:
        return self.release + (f"+{self.distance}" if self.distance else "")


def parse(text: object) -> Optional[Version]:
    """The version `text` names, or None when it names no release (a bare commit, `unreleased`, nonsense).

    A zero version with commits past it (`0.0.0.post5.dev0+gabc`, what Copier reports for an untagged
    template) is no release either."""
    match = _SEMVER.match(str(text if text is not None else "").strip())
    if not match:
        return None
    distance = int(match.group("distance") or match.group("post") or 0)
    numbers = (int(match.group("major")), int(match.group("minor")), int(match.group("patch")))
    if numbers == (0, 0, 0) and distance:
        return None
    pre_text = (match.group("pre") or "").lower()
    pre = (0, pre_text) if pre_text else ()
    return Version(*numbers, pre, distance)


def key(text: object) -> tuple:
    """A sort key: unreleased first (behind every release), then releases in order, pre-releases before finals."""
    version = parse(text)
    if version is None:
        return (0, (), str(text or ""))
    # a final release sorts after its pre-releases: () must compare above (0, "rc.1")
    pre_rank = (1,) if not version.pre else version.pre
    return (1, (version.major, version.minor, version.patch, pre_rank, version.distance), "")


def is_release(text: object) -> bool:
    """Whether `text` names a tagged release exactly (any spelling): v0.2.0, 0.2.0, 0.2.0+dirty."""
    version = parse(text)
    return version is not None and version.is_release


def canonical(text: object) -> str:
    """One name per release for tables and grouping: `0.2.0` for every spelling of it; `unreleased` for a
    render from an untagged commit; `0.2.0+3` for a render three commits past 0.2.0."""
    version = parse(text)
    return UNRELEASED if version is None else str(version)


def release_of(text: object) -> str:
    """The release a version belongs to for adoption figures: its release, or `unreleased` (past a tag too)."""
    version = parse(text)
    return version.release if version is not None and version.is_release else UNRELEASED


def same_release(a: object, b: object) -> bool:
    mine, theirs = parse(a), parse(b)
    return mine is not None and theirs is not None and mine.is_release and mine == theirs


def compare(a: object, b: object) -> int:
    """-1, 0 or 1 as `a` is behind, the same as, or ahead of `b` (unreleased is behind every release)."""
    ka, kb = key(a)[:2], key(b)[:2]
    return (ka > kb) - (ka < kb)


def at_least(version: object, target: object) -> bool:
    """Whether `version` has everything release `target` has (it is that release or later)."""
    return parse(version) is not None and compare(version, target) >= 0


def releases_behind(version: object, releases: Iterable[object]) -> int:
    """How many of `releases` are newer than `version`; an unreleased render is behind all of them."""
    mine = key(version)[:2]
    return sum(1 for release in releases if key(release)[:2] > mine and is_release(release))


def tag(text: object) -> str:
    """The git tag of a release, whatever its spelling: 0.2.0 -> v0.2.0."""
    version = parse(text)
    if version is None or not version.is_release:
        raise ValueError(f"{text!r} is not a release version; write it like v0.2.0")
    return "v" + version.release
