"""Promotion candidates: team-local skills that do the same job across teams, found in near-linear time.

Method (see docs/fleet.md):
  1. normalise each SKILL.md: drop the frontmatter's `name:` line (teams rename copies), lower-case, keep only
     runs of letters and digits, so punctuation, Markdown and whitespace changes do not matter;
  2. remove the boilerplate: every line that also appears in the org's skill template (the skeleton teams start
     from). Skills built from one template share its headings and advice; that is not the same job;
  3. near copies: identical remaining texts collapse into one document; each document becomes the set of its
     word 3-grams, a one-permutation MinHash signature (128 bins, 32 bands of 4) puts documents sharing a band in
     one bucket, and each candidate pair is confirmed by the exact Jaccard similarity (>= `threshold`);
  4. the same job written differently: each document becomes a TF-IDF vector over its stemmed content words
     (stop words out; the name and description count twice, since they say what the skill is for), IDF over
     every document including the registry's. Candidate pairs share two of their twenty heaviest terms (an
     inverted index whose lists are capped, counted per document, at most PARTNER_BUDGET partners each, so the
     work grows linearly, never all pairs) and are confirmed by cosine similarity
     (>= COSINE_THRESHOLD). The labelled pairs in tests/fleet_skill_pairs.py measure precision and recall;
  5. confirmed pairs join groups (union-find). A group holding a registry skill is a "registry duplicate" (the
     teams could use the registry skill); a group of two or more teams is a promotion candidate.
"""

from __future__ import annotations

import array
import base64
import dataclasses
import hashlib
import heapq
import json
import math
import random
import re
import sys
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

BINS = 128
BANDS = 32
ROWS = BINS // BANDS
_MASK = BINS - 1
_SHIFT = BINS.bit_length() - 1
_TOKEN = re.compile(r"[a-z0-9]+")
_NAME_LINE = re.compile(r"(?m)^name:.*$")
_DESCRIPTION = re.compile(r"(?m)^description:(.*)$")
DEFAULT_THRESHOLD = 0.5  # Jaccard of word 3-grams for near copies
COSINE_THRESHOLD = 0.22  # TF-IDF cosine for the same job written differently (labelled pairs: tests/fleet_skill_pairs.py)
TOP_TERMS = 20  # heaviest terms per document; candidate pairs share MIN_SHARED_TERMS of them
MIN_SHARED_TERMS = 2
BACKGROUND_SAMPLES = 600
BUCKET_PEERS = 3  # members of a MinHash bucket each member is compared with
BACKGROUND_MADS = 10
LINKAGE_FRACTION = 0.8  # groups join when their mean cosine is at least this share of the threshold
LINKAGE_SAMPLE = 20  # members of each group the mean is taken over (bounds the work for a popular job)
MAX_POSTING = 40  # a term in more documents than this says nothing about a job
PARTNER_BUDGET = 12  # bounds the work: at most this many cosine comparisons per document
MIN_TOKENS = 12  # fewer content words than this after the boilerplate is gone: nothing left to compare
STOP_WORDS = frozenset("""
a about above after again all also an and any are as at be because been before being below between both but by
can could did do does doing done down during each either else for from further get gets got had has have having
here how i if in into is it its itself just let like make makes may might more most must my need needs no not now
of off on once one only or other our out over own same see should so some such than that the their them then there
these they this those through to too under until up upon us use used uses using very via was we were what when where
whether which while who why will with within without would yes yet you your yours
skill skills agent agents claude user users ask asked step steps first next then always never section example
""".split())


@dataclasses.dataclass
class Doc:
    team: str | None  # None for a registry skill
    skill: str
    source: str
    text: str


def _strip_name(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            return _NAME_LINE.sub("", text[:end]) + text[end:]
    return text


def normalise(text: str) -> list[str]:
    return _TOKEN.findall(_strip_name(text).lower())


def _line_keys(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(line, its tokens) for every line of the text."""
    return [(line, tuple(_TOKEN.findall(line.lower()))) for line in _strip_name(text).splitlines()]


def boilerplate_lines(template: str) -> frozenset[tuple[str, ...]]:
    """The normalised lines of the org's skill template worth removing (three words or more: a heading such as
    `## Steps` is common to everything and removed by stop words anyway)."""
    return frozenset(tokens for _, tokens in _line_keys(template) if len(tokens) >= 3)


def without_boilerplate(text: str, boilerplate: frozenset[tuple[str, ...]]) -> str:
    if not boilerplate:
        return text
    return "\n".join(line for line, tokens in _line_keys(text) if tokens not in boilerplate)


class _Stems(dict):
    """word -> its stem, once per distinct word: a light suffix strip so that deploys, deploying, deployed and
    deployment meet at deploy, and shipping at ship."""

    def __missing__(self, word: str) -> str:
        stem = word
        if stem.endswith("ies") and len(stem) > 4:
            stem = stem[:-3] + "y"
        elif stem.endswith("sses"):
            stem = stem[:-2]
        elif stem.endswith("s") and not stem.endswith(("ss", "us", "is")) and len(stem) > 3:
            stem = stem[:-1]
        for suffix in ("ing", "ed"):
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
                stem = stem[: -len(suffix)]
                if stem[-1] == stem[-2] and stem[-1] not in "lsz":
                    stem = stem[:-1]
                break
        for suffix in ("ment", "ness", "ly"):
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 4:
                stem = stem[: -len(suffix)]
                break
        self[word] = stem
        return stem


_STEMS = _Stems()


def content_terms(doc: Doc) -> Counter[str]:
    """Stemmed content words; the skill's name and description twice (they say what it is for)."""
    text = doc.text
    description = _DESCRIPTION.search(text[:2000]) if text.startswith("---") else None
    words = [w for w in normalise(text) if len(w) > 2 and w not in STOP_WORDS and not w.isdigit()]
    heading = _TOKEN.findall(description.group(1).lower()) if description else []
    words += [w for w in heading if len(w) > 2 and w not in STOP_WORDS]
    return Counter(map(_STEMS.__getitem__, words))


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


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(a[term] * b[term] for term in a.keys() & b.keys())


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


def _tfidf(term_counts: list[Counter[str]]) -> list[dict[str, float]]:
    df: Counter[str] = Counter()
    for counts in term_counts:
        df.update(counts.keys())
    n = len(term_counts)
    idf = {term: math.log((1 + n) / (1 + count)) for term, count in df.items()}
    tf = [0.0] + [1 + math.log(c) for c in range(1, 64)]
    vectors = []
    for counts in term_counts:
        weights = {t: (tf[c] if c < 64 else 1 + math.log(c)) * idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({t: w / norm for t, w in weights.items() if w > 0})
    return vectors


def background_cosine(vectors: list[dict[str, float]], terms: list[Counter[str]], samples: int = BACKGROUND_SAMPLES) -> float:
    """How alike unrelated documents of this corpus are: the median cosine of random pairs plus BACKGROUND_MADS
    median absolute deviations. A corpus written in a narrow vocabulary is alike throughout; the same job must
    stand out from that, not from zero."""
    usable = [i for i, counts in enumerate(terms) if sum(counts.values()) >= MIN_TOKENS]
    if len(usable) < 20:
        return 0.0
    rng = random.Random(0)  # deterministic: the same fleet gives the same report
    values = sorted(cosine(vectors[a], vectors[b]) for a, b in (rng.sample(usable, 2) for _ in range(samples)))
    median = values[len(values) // 2]
    mad = sorted(abs(v - median) for v in values)[len(values) // 2]
    return median + BACKGROUND_MADS * mad


@dataclasses.dataclass
class Features:
    """What grouping needs of one distinct (boilerplate-free) text, computed once per run, whatever the number of
    copies or passes: its token ids (the exact-copy key), its word 3-gram hashes (sorted, compact) and MinHash
    signature, and its content-term counts."""

    key: bytes  # digest of the token ids: texts equal but for punctuation, Markdown and spacing share it
    shingles: array.array
    signature: tuple[int, ...] | None  # None: too short to have near copies
    terms: Counter[str]
    size: int  # content words (for MIN_TOKENS)

    @classmethod
    def of(cls, text: str, tokens: "_Tokens", terms: Counter[str]) -> "Features":
        ids = tokens(normalise(text))
        shingle_set = shingles(ids)
        return cls(hashlib.sha1(array.array("q", ids).tobytes()).digest(), array.array("q", sorted(shingle_set)),
                   _signature_if_long(shingle_set), terms, sum(terms.values()))

    def as_json(self) -> list[Any]:
        return [self.key.hex(), base64.b64encode(self.shingles.tobytes()).decode("ascii"), self.terms]

    @classmethod
    def from_json(cls, data: list[Any]) -> "Features":
        key, packed, terms = data
        shingle_array = array.array("q")
        shingle_array.frombytes(base64.b64decode(packed))
        terms = Counter({str(term): int(count) for term, count in terms.items()})
        return cls(bytes.fromhex(key), shingle_array, _signature_if_long(shingle_array), terms, sum(terms.values()))


def _signature_if_long(shingle_set: Iterable[int]) -> tuple[int, ...] | None:
    shingle_set = shingle_set if isinstance(shingle_set, (set, frozenset)) else frozenset(shingle_set)
    return signature(shingle_set) if len(shingle_set) >= MIN_TOKENS // 2 else None


class FeatureCache(dict):
    """stripped text -> Features; shared by the passes of one run (the registry pass and the candidates pass see
    the same texts), so each distinct text is tokenised, shingled and counted once. `universe`: every boilerplate
    line any pass removes; each text is matched against it once, and only its matching lines are kept."""

    def __init__(self, universe: frozenset[tuple[str, ...]] = frozenset(),
                 saved: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.tokens = _Tokens()
        self.universe = universe
        self.matches: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.saved = saved or {}  # text digest -> Features.as_json(), from an earlier run (--incremental)
        self.reused = 0

    def stripped(self, text: str, lines: frozenset[tuple[str, ...]]) -> str:
        """The text without the `lines`; the text itself when none of them is in it."""
        if not lines:
            return text
        if not lines <= self.universe:
            return without_boilerplate(text, lines)
        found = self.matches.get(text)
        if found is None:
            found = self.matches[text] = [(number, tokens) for number, (_, tokens) in enumerate(_line_keys(text))
                                          if tokens in self.universe]
        drop = {number for number, tokens in found if tokens in lines}
        if not drop:
            return text
        return "\n".join(line for number, line in enumerate(_strip_name(text).splitlines()) if number not in drop)

    def features(self, doc: Doc) -> Features:
        found = self.get(doc.text)
        if found is None:
            saved = self.saved.get(text_digest(doc.text))
            found = None
            if saved is not None:
                try:
                    found = Features.from_json(saved)
                    self.reused += 1
                except (ValueError, TypeError, AttributeError):  # a damaged cache entry: computed again
                    found = None
            if found is None:
                found = Features.of(doc.text, self.tokens, content_terms(doc))
            self[doc.text] = found
        return found

    def as_json(self) -> dict[str, list[Any]]:
        """The features of every text this run saw (and only those: the cache never outgrows the fleet)."""
        return {text_digest(text): found.as_json() for text, found in self.items()}


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _jaccard_sorted(a: array.array, b: array.array) -> float:
    if not a and not b:
        return 1.0
    small, large = (a, b) if len(a) < len(b) else (b, a)
    inter = len(set(small).intersection(large))
    return inter / (len(a) + len(b) - inter)


def _candidate_pairs(postings: dict[str, list[int]], top_terms: list[list[str]],
                     together: Callable[[int, int], bool]) -> Iterator[tuple[int, int]]:
    """Pairs (a < b) not already `together` that share MIN_SHARED_TERMS of their heaviest terms, each posting
    list capped at MAX_POSTING, and at most PARTNER_BUDGET partners per document (those sharing the most terms
    first): counted per document from its own postings, so the work and the memory grow with the documents,
    never with the pairs of the whole corpus, and a fleet ten times larger, whose rare terms are shared by ten
    times more documents by chance, does not compare each document ten times more often."""
    for a, terms in enumerate(top_terms):
        partners: Counter[int] = Counter()
        for term in terms:
            posting = postings.get(term)
            if posting is not None and 2 <= len(posting) <= MAX_POSTING:
                partners.update(b for b in posting if b > a)
        chosen = sorted(((-count, b) for b, count in partners.items() if count >= MIN_SHARED_TERMS and not together(a, b)))
        for _, b in chosen[:PARTNER_BUDGET]:
            yield a, b


def group(docs: Iterable[Doc], threshold: float = DEFAULT_THRESHOLD, *, boilerplate: str = "",
          lines: frozenset[tuple[str, ...]] | None = None, cosine_threshold: float = COSINE_THRESHOLD,
          stats: dict[str, int] | None = None, cache: FeatureCache | None = None) -> list[list[tuple[Doc, float]]]:
    """Groups of two or more documents doing the same job, each member with its similarity to the group's
    first member (the higher of the two measures). `boilerplate` (a text) or `lines` are removed first.
    `stats`, when given, receives how many pairs each measure compared (the work, which must grow linearly).
    `cache` carries each distinct text's features from one call to the next."""
    jaccard_pairs = cosine_pairs = 0
    if lines is None:
        lines = boilerplate_lines(boilerplate) if boilerplate else frozenset()
    cache = cache if cache is not None else FeatureCache()
    unique: dict[bytes, int] = {}
    members: list[list[Doc]] = []
    features: list[Features] = []
    for doc in docs:
        text = cache.stripped(doc.text, lines)
        found = cache.features(Doc(doc.team, doc.skill, doc.source, text))
        index = unique.get(found.key)
        if index is None:
            index = unique[found.key] = len(members)
            members.append([])
            features.append(found)
        members[index].append(doc)
    del unique

    uf = _UnionFind(len(features))
    # near copies: MinHash bands, confirmed by Jaccard
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for index, found in enumerate(features):
        sig = found.signature
        if sig is None:
            continue
        for band in range(BANDS):
            buckets[(band, sig[band * ROWS:(band + 1) * ROWS])].append(index)
    for bucket in buckets.values():
        if len(bucket) < 2:
            continue
        # each member against the bucket's first few members only: a group of copies grows with the fleet, and
        # comparing all its pairs would make the work grow with its square
        for position in range(1, len(bucket)):
            b = bucket[position]
            for a in bucket[:min(position, BUCKET_PEERS)]:
                if uf.find(a) != uf.find(b):
                    jaccard_pairs += 1
                    if _jaccard_sorted(features[a].shingles, features[b].shingles) >= threshold:
                        uf.union(a, b)
                        break
                else:
                    break
    del buckets

    # the same job written differently: TF-IDF cosine over candidate pairs sharing two heavy terms
    terms = [found.terms for found in features]
    vectors = _tfidf(terms)
    postings: dict[str, list[int]] = defaultdict(list)
    top_terms: list[list[str]] = []
    for index, vector in enumerate(vectors):
        top = heapq.nlargest(TOP_TERMS, vector, key=vector.__getitem__) if features[index].size >= MIN_TOKENS else []
        top_terms.append(top)
        for term in top:
            postings[term].append(index)
    cosine_threshold = max(cosine_threshold, background_cosine(vectors, terms))
    edges = []
    for a, b in _candidate_pairs(postings, top_terms, lambda a, b: uf.find(a) == uf.find(b)):
        cosine_pairs += 1
        score = cosine(vectors[a], vectors[b])
        if score >= cosine_threshold:
            edges.append((score, a, b))
    del postings, top_terms
    # average linkage: two groups join only when their members are alike on average, so one borderline pair
    # (a handover note and meeting notes both speak of owners and actions) does not chain two jobs together
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(features)):
        groups[uf.find(index)].append(index)
    for score, a, b in sorted(edges, reverse=True):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        left, right = groups[ra][:LINKAGE_SAMPLE], groups[rb][:LINKAGE_SAMPLE]
        mean = sum(cosine(vectors[i], vectors[j]) for i in left for j in right) / (len(left) * len(right))
        if mean >= cosine_threshold * LINKAGE_FRACTION:
            uf.union(ra, rb)
            root, other = (ra, rb) if uf.find(ra) == ra else (rb, ra)
            groups[root] += groups.pop(other)

    if stats is not None:
        stats.update(documents=len(features), jaccard_pairs=jaccard_pairs, cosine_pairs=cosine_pairs)
    clusters: dict[int, list[int]] = defaultdict(list)
    for index in range(len(features)):
        clusters[uf.find(index)].append(index)
    out = []
    for indexes in clusters.values():
        if len(indexes) == 1 and len(members[indexes[0]]) < 2:
            continue
        first = indexes[0]
        scored = [(doc, round(max(_jaccard_sorted(features[first].shingles, features[i].shingles), cosine(vectors[first], vectors[i])), 3))
                  for i in indexes for doc in members[i]]
        out.append(scored)
    return out


def promotion_candidates(docs: list[Doc], registry: list[Doc], threshold: float = DEFAULT_THRESHOLD, *,
                         boilerplate: str = "", cosine_threshold: float = COSINE_THRESHOLD,
                         run_cache: "RunCache | None" = None) -> dict[str, list[dict]]:
    """{"promotion_candidates": [...], "registry_duplicates": [...]} for the report.

    First, team skills alike to a registry skill (a copy, or the same job) are registry duplicates. Then the rest
    are compared with each other after removing the lines they share with the registry's skills as well as the
    template's: two teams pasting the same registry section into different skills is not one job.
    `run_cache` (--incremental): the last run's result when nothing it depends on changed, its texts' features
    otherwise; it receives this run's."""
    key = inputs_key(docs, registry, threshold, boilerplate, cosine_threshold)
    if run_cache is not None and run_cache.key == key and run_cache.result is not None:
        run_cache.reused_result = True
        return run_cache.result
    template = boilerplate_lines(boilerplate) if boilerplate else frozenset()
    shared = template | frozenset(line for doc in registry for line in boilerplate_lines(doc.text))
    cache = FeatureCache(shared, run_cache.saved if run_cache is not None else None)
    duplicates, matched = [], set()
    for members in group([*registry, *docs], threshold, lines=template, cosine_threshold=cosine_threshold, cache=cache):
        registry_names = sorted({doc.skill for doc, _ in members if doc.team is None})
        local = [(doc, score) for doc, score in members if doc.team is not None]
        if registry_names and local:
            duplicates.append({**_entry(local, members), "registry_skill": registry_names[0]})
            matched.update(id(doc) for doc, _ in local)
    candidates = []
    for members in group([doc for doc in docs if id(doc) not in matched], threshold, lines=shared, cosine_threshold=cosine_threshold,
                         cache=cache):
        entry = _entry(members, members)
        if entry["team_count"] >= 2:
            candidates.append(entry)
    candidates.sort(key=lambda e: (-e["team_count"], -e["copies"], e["name"]))
    duplicates.sort(key=lambda e: (-e["team_count"], e["registry_skill"], e["name"]))
    result = {"promotion_candidates": candidates, "registry_duplicates": duplicates}
    if run_cache is not None:
        run_cache.computed(key, result, cache)
    return result


# ---------------------------------------------------------------- what --incremental keeps between runs

# the method itself: this file, and what the shingle hashes depend on (tuple hashing, byte order)
METHOD = hashlib.sha256(Path(__file__).read_bytes() + f"{sys.version_info[:2]} {sys.byteorder}".encode()).hexdigest()[:20]
CACHE_SCHEMA = "agent-foundation.fleet-similarity"


def inputs_key(docs: list[Doc], registry: list[Doc], threshold: float, boilerplate: str, cosine_threshold: float) -> str:
    """Everything the groups are computed from: the method, the thresholds, the template, the registry's skills
    and every team skill (who, where, and its text's digest), in order."""
    parts = [METHOD, threshold, cosine_threshold, text_digest(boilerplate),
             [(doc.skill, text_digest(doc.text)) for doc in registry],
             [(doc.team, doc.skill, doc.source, text_digest(doc.text)) for doc in docs]]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


class RunCache:
    """What `fleet --incremental STATE` keeps of the similarity between runs (STATE.similarity.json, see
    incremental_state.load_similarity): the last
    result with the digest of everything it came from, and each distinct skill text's features (token digest,
    shingles, content terms) by the text's digest. Nothing changed in the skills, registry, template or
    thresholds: the result is reused whole. Otherwise the grouping runs again, but only new texts are
    tokenised and counted."""

    def __init__(self, saved: dict[str, Any] | None = None) -> None:
        saved = saved if isinstance(saved, dict) and saved.get("schema") == CACHE_SCHEMA and saved.get("method") == METHOD else {}
        features = saved.get("features")
        self.saved: dict[str, Any] = features if isinstance(features, dict) else {}
        self.key: str | None = saved.get("key") if isinstance(saved.get("key"), str) else None
        result = saved.get("result")
        self.result: dict[str, list[dict]] | None = result if isinstance(result, dict) else None
        self.reused_result = False
        self.texts_reused = self.texts_computed = 0
        self._features: FeatureCache | None = None

    def computed(self, key: str, result: dict[str, list[dict]], features: FeatureCache) -> None:
        self.key, self.result, self._features = key, result, features
        self.texts_reused, self.texts_computed = features.reused, len(features) - features.reused

    def stats(self) -> dict[str, Any]:
        return {"result_reused": self.reused_result, "texts_reused": self.texts_reused, "texts_computed": self.texts_computed}

    def as_json(self) -> dict[str, Any]:
        """What to keep for the next run: the features of this run's texts only, so it never outgrows the fleet."""
        features = self._features.as_json() if self._features is not None else self.saved
        return {"schema": CACHE_SCHEMA, "method": METHOD, "key": self.key, "result": self.result, "features": features}


def _entry(local: list[tuple[Doc, float]], members: list[tuple[Doc, float]]) -> dict:
    teams = sorted({doc.team for doc, _ in local if doc.team})
    names = [doc.skill for doc, _ in local]
    return {
        "name": max(sorted(set(names)), key=names.count),
        "teams": teams,
        "team_count": len(teams),
        "copies": len(local),
        "min_similarity": min(score for _, score in members),
        "members": [{"team": doc.team, "skill": doc.skill, "source": doc.source, "similarity": score}
                    for doc, score in sorted(local, key=lambda m: (m[0].team or "", m[0].skill, m[0].source))],
    }
