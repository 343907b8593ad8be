"""Fleet sources: folders, folders of folders, list files, and git URLs cloned shallow and sparse into a cache
(against local bare repositories made here, over file:// URLs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_foundation.fleet import sources
from agent_foundation.fleet.command import build_report
from tests.fleet_support import copy_repo, settings_edit, template_root
from tests.rendering import commit_all, git


@pytest.fixture(scope="module")
def remotes(rendered_team: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("remotes")
    root = template_root(tmp)
    work = {}
    for team in ("team-a", "team-b"):
        repo = copy_repo(rendered_team, tmp / "work" / team, team)
        (repo / "src").mkdir()
        (repo / "src" / "app.py").write_text("print('application code the fleet never needs')\n")
        commit_all(repo, "team repository")
        git(tmp, "clone", "-q", "--bare", str(repo), str(tmp / f"{team}.git"))
        work[team] = repo
    return {"tmp": tmp, "root": root, "work": work, "url": {t: (tmp / f"{t}.git").as_uri() for t in work}}


def test_git_urls_are_cloned_shallow_and_sparse_into_the_cache(remotes: dict, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    missing = (remotes["tmp"] / "no-such-repo.git").as_uri()
    data = build_report(remotes["root"], [remotes["url"]["team-a"], remotes["url"]["team-b"], missing], cache=cache, jobs=1)
    rows = {r["source"]: r for r in data["repos"]}
    for team in ("team-a", "team-b"):
        row = rows[remotes["url"][team]]
        assert row["error"] is None and row["team"] == team and row["url"] == remotes["url"][team]
        assert row["findings"] == [] and row["flags"] == []
        clone = Path(row["path"])
        assert clone.parent == cache
        assert (clone / ".claude/settings.json").is_file() and (clone / ".copier-answers.yml").is_file()
        assert not (clone / "src").exists(), "only the foundation's paths are checked out"
        assert git(clone, "rev-list", "--count", "HEAD").strip() == "1", "shallow: one commit"
    bad = rows[missing]
    assert bad["error"].startswith(f"cannot clone {missing}") and bad["risk"] is None
    assert data["org"]["errors"] == 1


def test_a_later_run_refreshes_the_cached_clone(remotes: dict, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    url = remotes["url"]["team-a"]
    first = build_report(remotes["root"], [url], cache=cache, jobs=1)["repos"][0]
    assert first["flags"] == []
    clone = Path(first["path"])
    marker = clone / ".git" / "fleet-test-marker"
    marker.write_text("the same clone is reused\n")

    repo = remotes["tmp"] / "team-a-update"
    git(remotes["tmp"], "clone", "-q", url, str(repo))
    settings_edit(repo, lambda s: s["permissions"]["allow"].append("Bash(*)"))
    commit_all(repo, "allow everything")
    git(repo, "push", "-q", "origin", "HEAD")

    second = build_report(remotes["root"], [url], cache=cache, jobs=1)["repos"][0]
    assert second["path"] == first["path"] and marker.is_file(), "refreshed in place, not cloned again"
    assert [f["code"] for f in second["flags"]] == ["broad-allow"]
    offline = build_report(remotes["root"], [url, remotes["url"]["team-b"]], cache=cache, offline=True, jobs=1)
    rows = {r["source"]: r for r in offline["repos"]}
    assert [f["code"] for f in rows[url]["flags"]] == ["broad-allow"]
    assert "not in the cache and --offline" in rows[remotes["url"]["team-b"]]["error"]
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    git(repo, "push", "-q", "--force", "origin", "HEAD")


def test_an_unreachable_remote_after_a_clone_is_an_error_not_stale_data(remotes: dict, tmp_path: Path) -> None:
    bare = remotes["tmp"] / "moving.git"
    shutil.copytree(remotes["tmp"] / "team-b.git", bare)
    cache = tmp_path / "cache"
    assert build_report(remotes["root"], [bare.as_uri()], cache=cache, jobs=1)["repos"][0]["error"] is None
    shutil.rmtree(bare)
    row = build_report(remotes["root"], [bare.as_uri()], cache=cache, jobs=1)["repos"][0]
    assert row["error"].startswith("cannot refresh") and row["risk"] is None


def test_list_files_folders_and_folders_of_folders(remotes: dict, tmp_path: Path) -> None:
    listing = tmp_path / "fleet.txt"
    folder = tmp_path / "teams"
    folder.mkdir()
    shutil.copytree(remotes["work"]["team-a"], folder / "team-a", ignore=shutil.ignore_patterns(".git"))
    listing.write_text(
        "# the platform team's fleet\n"
        f"{remotes['work']['team-b']}\n"
        "teams            # a folder of team repositories, relative to this file\n"
        f"{remotes['url']['team-a']}\n"
        "\n"
        "missing-folder\n",
        encoding="utf-8")
    refs, urls = sources.expand([str(listing)])
    assert urls == [remotes["url"]["team-a"]]
    assert [Path(r.label).name for r in refs] == ["team-b", "team-a", "missing-folder"]
    assert refs[2].error and "does not exist" in refs[2].error
    data = build_report(remotes["root"], [str(listing)], cache=tmp_path / "cache", jobs=1)
    assert sorted(r["team"] or "-" for r in data["repos"]) == ["-", "team-a", "team-a", "team-b"]
    assert sum(1 for r in data["repos"] if r["error"]) == 1


def test_url_detection() -> None:
    for url in ("https://example.com/org/repo.git", "ssh://git@example.com/org/repo", "git@example.com:org/repo.git", "file:///srv/repo.git"):
        assert sources.is_url(url), url
    for path in ("teams/payments", "/srv/teams", "C-drive", "./repo"):
        assert not sources.is_url(path), path
    a = sources.cache_dir_for("https://example.com/org/payments.git", Path("/c"))
    b = sources.cache_dir_for("https://example.com/other/payments.git", Path("/c"))
    assert a != b and a.name.startswith("payments-") and b.name.startswith("payments-")


def test_bare_repositories_on_disk_are_cloned_like_urls(remotes: dict, tmp_path: Path) -> None:
    data = build_report(remotes["root"], [str(remotes["tmp"] / "team-b.git"), str(remotes["tmp"])], cache=tmp_path / "cache", jobs=1)
    by_url = {r["url"]: r for r in data["repos"] if r["url"]}
    assert by_url[remotes["url"]["team-b"]]["team"] == "team-b" and by_url[remotes["url"]["team-b"]]["error"] is None
    assert by_url[remotes["url"]["team-a"]]["team"] == "team-a"
    assert len([r for r in data["repos"] if r["url"] == remotes["url"]["team-b"]]) == 1, "the same remote once"
