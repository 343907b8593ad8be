"""Promotion candidates by normalised content similarity: planted duplicates found, no false pairs among
unrelated skills (the real registry skills), linear-time grouping."""

from __future__ import annotations

import random
import re
from itertools import combinations

import pytest

from agent_foundation.foundation import load_foundation
from agent_foundation.fleet import similarity
from agent_foundation.fleet.similarity import Doc
from tests.fleet_skill_pairs import SKILLS, TEMPLATE, labelled_pairs
from tests.rendering import TEMPLATE_ROOT

FOUNDATION = load_foundation(TEMPLATE_ROOT / "foundation")
REGISTRY = {name: skill.files["SKILL.md"].decode("utf-8") for name, skill in FOUNDATION.skills.items()}


def _edit(text: str, rng: random.Random, words: int) -> str:
    tokens = text.split(" ")
    for _ in range(words):
        tokens[rng.randrange(len(tokens))] = rng.choice(["banana", "quartz", "velvet", "orbit", "lantern"])
    return " ".join(tokens)


def test_no_false_pairs_among_the_registry_skills() -> None:
    docs = [Doc(f"team-{i}", name, f"repo-{i}", text) for i, (name, text) in enumerate(REGISTRY.items())]
    assert len(docs) >= 6
    assert similarity.group(docs) == []
    result = similarity.promotion_candidates(docs, [])
    assert result == {"promotion_candidates": [], "registry_duplicates": []}
    # and their pairwise similarity is far below the threshold
    sets = [similarity.shingles(list(similarity._Tokens()(similarity.normalise(d.text)))) for d in docs]
    worst = max(similarity.jaccard(a, b) for i, a in enumerate(sets) for b in sets[i + 1:])
    assert worst < 0.2


def test_planted_duplicates_are_found_with_the_teams_named() -> None:
    rng = random.Random(3)
    base = REGISTRY["incident-postmortem"].replace("name: incident-postmortem", "name: postmortem-writer")
    other = REGISTRY["dependency-upgrade"].replace("name: dependency-upgrade", "name: bump-deps")
    docs = [
        Doc("payments", "postmortem-writer", "repos/payments", base),
        # renamed, reformatted (case, punctuation, whitespace) and lightly edited copies
        Doc("search", "incident-review", "repos/search", re.sub(r"\s+", "  ", base.upper()).replace("name: POSTMORTEM-WRITER", "name: incident-review")),
        Doc("ledger", "pm", "repos/ledger", _edit(base, rng, 12)),
        Doc("ledger", "pm-copy", "repos/ledger-2", base),
        Doc("mobile", "bump-deps", "repos/mobile", other),
        Doc("web", "deps-bumper", "repos/web", _edit(other, rng, 8)),
        Doc("infra", "unrelated", "repos/infra", REGISTRY["code-review"].replace("name: code-review", "name: unrelated")),
    ]
    result = similarity.promotion_candidates(docs, [])
    groups = {tuple(c["teams"]): c for c in result["promotion_candidates"]}
    assert set(groups) == {("ledger", "payments", "search"), ("mobile", "web")}
    postmortem = groups[("ledger", "payments", "search")]
    assert postmortem["copies"] == 4 and postmortem["team_count"] == 3 and postmortem["min_similarity"] >= 0.8
    assert {m["source"] for m in postmortem["members"]} == {"repos/payments", "repos/search", "repos/ledger", "repos/ledger-2"}
    assert all("unrelated" not in {m["skill"] for m in c["members"]} for c in result["promotion_candidates"])


def test_copies_of_a_registry_skill_are_reported_as_such_not_as_candidates() -> None:
    registry = [Doc(None, name, "registry", text) for name, text in REGISTRY.items()]
    copy = REGISTRY["writing-tests"].replace("name: writing-tests", "name: our-tests") + "\nAlways use pytest.\n"
    docs = [Doc("a", "our-tests", "repos/a", copy), Doc("b", "tests-guide", "repos/b", copy)]
    result = similarity.promotion_candidates(docs, registry)
    assert result["promotion_candidates"] == []
    assert [(d["registry_skill"], d["teams"]) for d in result["registry_duplicates"]] == [("writing-tests", ["a", "b"])]


def test_one_team_alone_is_not_a_candidate() -> None:
    text = REGISTRY["release-notes"].replace("name: release-notes", "name: notes")
    docs = [Doc("solo", "notes", "repos/solo-1", text), Doc("solo", "notes-2", "repos/solo-2", text)]
    assert similarity.promotion_candidates(docs, [])["promotion_candidates"] == []


def test_below_the_threshold_is_not_alike() -> None:
    rng = random.Random(5)
    words = re.findall(r"[a-z]+", " ".join(REGISTRY.values()).lower())
    a = " ".join(rng.choice(words) for _ in range(300))
    b = " ".join(rng.choice(words) for _ in range(300))
    assert similarity.group([Doc("x", "a", "x", a), Doc("y", "b", "y", b)]) == []


def test_grouping_work_grows_linearly() -> None:
    """The pairs compared (the work) grow with the documents, not with their square; the time itself is
    measured by benchmarks/fleet_bench.py."""
    rng = random.Random(11)
    words = sorted(set(re.findall(r"[a-z]{3,}", " ".join(REGISTRY.values()).lower())))
    shared = [" ".join(rng.choice(words) for _ in range(300)) for _ in range(50)]

    def corpus(n: int) -> list[Doc]:
        docs = []
        for i in range(n):
            if i % 3 == 0:
                docs.append(Doc(f"t{i}", f"s{i}", f"r{i}", _edit(shared[i % 50], rng, 5)))
            else:
                docs.append(Doc(f"t{i}", f"s{i}", f"r{i}", " ".join(rng.choice(words) for _ in range(300))))
        return docs

    small, large = corpus(500), corpus(2500)
    work_small: dict[str, int] = {}
    work_large: dict[str, int] = {}
    groups_small = similarity.group(small, stats=work_small)
    groups_large = similarity.group(large, stats=work_large)
    assert len(groups_small) == 50 and len(groups_large) == 50
    assert sum(len(g) for g in groups_large) == len(range(0, 2500, 3))
    pairs_small = work_small["jaccard_pairs"] + work_small["cosine_pairs"]
    pairs_large = work_large["jaccard_pairs"] + work_large["cosine_pairs"]
    assert pairs_large < 2500 * 10, work_large  # a handful of comparisons per document, not n^2 / 2 = 3 million
    assert pairs_large / max(pairs_small, 1) < 5 * 2.5, (work_small, work_large)  # 5x the documents, not 25x the work


def _predicted_pairs(result: dict, docs: list[Doc]) -> set[tuple[int, int]]:
    index = {(d.team, d.skill): i for i, d in enumerate(docs)}
    together = set()
    for candidate in result["promotion_candidates"]:
        ids = sorted(index[(m["team"], m["skill"])] for m in candidate["members"])
        together |= set(combinations(ids, 2))
    return together


def test_precision_and_recall_on_the_labelled_skill_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    """Same job written differently is found; skills that only share the org's template or a topic are not."""
    docs = [Doc(team, name, f"repos/{team}/{i}", text) for i, (team, name, _, text) in enumerate(SKILLS)]
    registry = [Doc(None, name, "registry", text) for name, text in REGISTRY.items()]
    result = similarity.promotion_candidates(docs, registry, boilerplate=TEMPLATE)
    labels = labelled_pairs()
    predicted = _predicted_pairs(result, docs)
    true_positive = sum(1 for pair in predicted if labels[pair])
    precision = true_positive / len(predicted) if predicted else 0.0
    recall = true_positive / sum(labels.values())
    with capsys.disabled():
        print(f"\npromotion candidates on {len(SKILLS)} labelled skills ({sum(labels.values())} same-job pairs of {len(labels)}): "
              f"precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.9 and recall >= 0.9, (precision, recall, [(docs[a].skill, docs[b].skill) for a, b in predicted])
    # the near-identical measure alone (the method before this one) finds only the near copy
    jaccard_only = similarity.promotion_candidates(docs, registry, boilerplate=TEMPLATE, cosine_threshold=1.01)
    assert len(_predicted_pairs(jaccard_only, docs)) == 1


def test_skills_built_from_the_org_template_are_not_one_candidate() -> None:
    templated = [Doc(team, name, f"repos/{team}", text) for team, name, job, text in SKILLS if job.startswith("t-")]
    assert len(templated) == 6
    # near-copy Jaccard of their word 3-grams is about 0.47: the template is what they share
    for threshold in (0.5, 0.4, 0.3):
        assert similarity.promotion_candidates(templated, [], threshold, boilerplate=TEMPLATE)["promotion_candidates"] == []
    # without knowing the template, a threshold that low groups all six as one "candidate"
    grouped = similarity.promotion_candidates(templated, [], 0.4, boilerplate="")["promotion_candidates"]
    assert [c["team_count"] for c in grouped] == [6]
