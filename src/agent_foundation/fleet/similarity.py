"""Promotion candidates: team-local skills that are alike across teams, found in linear time.

Method (see docs/fleet.md):
  1. normalise each SKILL.md: drop the frontmatter's `name:` line (teams rename copies), lower-case, keep
     only runs of letters and digits, so punctuation, Markdown and whitespace changes do not matter;
  2. identical normalised texts collapse into one document (most copies are verbatim);
  3. each remaining document becomes the set of its word 3-grams (shingles), hashed deterministically;
  4. a one-permutation MinHash signature (128 bins) per document, cut into 32 bands of 4 bins; documents
     sharing any band land in the same bucket (locality-sensitive hashing) - no all-pairs comparison;
  5. each candidate pair is confirmed by the exact Jaccard similarity of the shingle sets (>= threshold),
     and confirmed pairs are joined into groups (union-find).
With 32 bands of 4, a pair at Jaccard 0.5 becomes a candidate with probability 0.87, at 0.6 with 0.988 and
at 0.7 with 0.9998; unrelated texts (Jaccard < 0.1) almost never do. The registry's own skills take part,
so a team-local skill that re-writes a registry skill is reported as such.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections import defaultdict
from typing import Iterable

BINS = 128
BANDS = 32
ROWS = BINS // BANDS
_MASK = BINS - 1
_SHIFT = BINS.bit_length() - 1
_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_LINE = re.compile(r"(?m)^name:.*$")
DEFAULT_THRESHOLD = 0.5


@dataclasses.dataclass
class Doc:
    team: str | None  # None for a registry skill
    skill: str
    source: str
    text: str


def normalise(text: str) -> list[str]:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            text = _NAME_LINE.sub("", text[:end]) + text[end:]
    return _TOKEN.findall(text.lower())


class _Tokens(dict):
    """token -> a deterministic integer id (CRC-32 and length), computed once per distinct token."""

    def __missing__(self, token: str) -> int:
        value = self[token] = zlib.crc32(token.encode("utf-8")) | (len(token) << 32)
        return value

    def __call__(self, tokens: list[str]) -> list[int]:
        return list(map(self.__getitem__, tokens))


def shingles(ids: list[int]) -> frozenset[int]:
    if len(ids) < 3:
        return frozenset(hash((i,)) for i in ids)
    # the hash of a tuple of ints is deterministic (no per-process salt), unlike the hash of a str
    return frozenset(map(hash, zip(ids, ids[1:], ids[2:])))


def signature(shingle_set: frozenset[int]) -> tuple[int, ...]:
    """One-permutation MinHash: the smallest hash in each of BINS bins, empty bins filled from the next."""
    descending = sorted(shingle_set, reverse=True)
    smallest = dict(zip(map(_MASK.__and__, descending), descending))  # the last write per bin is its minimum
    if len(smallest) == BINS:
        return tuple(smallest[i] >> _SHIFT for i in range(BINS))
    if not smallest:
        return (0,) * BINS
    out = [None] * BINS
    for i in range(BINS):
        if i in smallest:
            out[i] = smallest[i] >> _SHIFT
    for i in range(BINS):  # densify: an empty bin borrows the next full bin, marked with the distance
        if out[i] is None:
            step = 1
            while (i + step) % BINS not in smallest:
                step += 1
            out[i] = ((smallest[(i + step) % BINS] >> _SHIFT) << 8) | step
    return tuple(out)  # type: ignore[arg-type]


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    inter = len(a & b) if len(a) < len(b) else len(b & a)
    return inter / (len(a) + len(b) - inter)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group(docs: Iterable[Doc], threshold: float = DEFAULT_THRESHOLD) -> list[list[tuple[Doc, float]]]:
    """Groups of two or more alike documents, each member with its similarity to the group's first member."""
    tokens = _Tokens()
    unique: dict[tuple[int, ...], int] = {}
    members: list[list[Doc]] = []
    sets: list[frozenset[int]] = []
    for doc in docs:
        ids = tuple(tokens(normalise(doc.text)))
        index = unique.get(ids)
        if index is None:
            index = unique[ids] = len(members)
            members.append([])
            sets.append(shingles(list(ids)))
        members[index].append(doc)

    uf = _UnionFind(len(sets))
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for index, shingle_set in enumerate(sets):
        if not shingle_set:
            continue
        sig = signature(shingle_set)
        for band in range(BANDS):
            buckets[(band, sig[band * ROWS:(band + 1) * ROWS])].append(index)
    for bucket in buckets.values():
        if len(bucket) < 2:
            continue
        for position, a in enumerate(bucket):
            for b in bucket[position + 1:]:
                if uf.find(a) != uf.find(b) and jaccard(sets[a], sets[b]) >= threshold:
                    uf.union(a, b)
            if position >= 30:  # a huge bucket: every member was compared with its first 30 already
                break

    clusters: dict[int, list[int]] = defaultdict(list)
    for index in range(len(sets)):
        clusters[uf.find(index)].append(index)
    out = []
    for indexes in clusters.values():
        docs_in = [doc for i in indexes for doc in members[i]]
        if len(docs_in) < 2:
            continue
        first = sets[indexes[0]]
        scored = [(doc, round(jaccard(first, sets[i]), 3)) for i in indexes for doc in members[i]]
        out.append(scored)
    return out


def promotion_candidates(docs: list[Doc], registry: list[Doc], threshold: float = DEFAULT_THRESHOLD) -> dict[str, list[dict]]:
    """{"promotion_candidates": [...], "registry_duplicates": [...]} for the report."""
    candidates, duplicates = [], []
    for members in group([*registry, *docs], threshold):
        registry_names = sorted({doc.skill for doc, _ in members if doc.team is None})
        local = [(doc, score) for doc, score in members if doc.team is not None]
        teams = sorted({doc.team for doc, _ in local if doc.team})
        if not local:
            continue
        names = [doc.skill for doc, _ in local]
        entry = {
            "name": max(sorted(set(names)), key=names.count),
            "teams": teams,
            "team_count": len(teams),
            "copies": len(local),
            "min_similarity": min(score for _, score in members),
            "members": [{"team": doc.team, "skill": doc.skill, "source": doc.source, "similarity": score}
                        for doc, score in sorted(local, key=lambda m: (m[0].team or "", m[0].skill, m[0].source))],
        }
        if registry_names:
            duplicates.append({**entry, "registry_skill": registry_names[0]})
        elif len(teams) >= 2:
            candidates.append(entry)
    candidates.sort(key=lambda e: (-e["team_count"], -e["copies"], e["name"]))
    duplicates.sort(key=lambda e: (-e["team_count"], e["registry_skill"], e["name"]))
    return {"promotion_candidates": candidates, "registry_duplicates": duplicates}
