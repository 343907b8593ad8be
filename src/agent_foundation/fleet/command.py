"""Run the fleet report: gather sources, scan every repository, build the report, record it, print it."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import multiprocessing
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

from ..foundation import FoundationError, load_foundation
from . import audit as audit_logs
from . import history, incremental_state, posture, report, scan, similarity, sources, versions

PARALLEL_MIN_REPOS = 300  # below this, starting worker processes costs more than it saves
PROGRESS_MIN_REPOS = 50

_WORKER_CTX: scan.Context | None = None


def _scan_chunk(chunk: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    assert _WORKER_CTX is not None
    return [scan.scan_repo(_WORKER_CTX, label, Path(path), url) for label, path, url in chunk]


def scan_all(ctx: scan.Context, refs: list[sources.RepoRef], jobs: int, advance: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """One row per ref, in order; large fleets are scanned in `jobs` forked processes."""
    rows: list[dict[str, Any] | None] = [None] * len(refs)
    todo = []
    for index, ref in enumerate(refs):
        if ref.path is None or ref.error:
            rows[index] = scan.empty_row(ref.label, ref.path, ref.url, ref.error or "no folder to read")
            if advance:
                advance(1)
        else:
            todo.append(index)
    use_pool = jobs > 1 and len(todo) >= PARALLEL_MIN_REPOS and "fork" in multiprocessing.get_all_start_methods()
    if not use_pool:
        for index in todo:
            ref = refs[index]
            rows[index] = scan.scan_repo(ctx, ref.label, ref.path, ref.url)  # type: ignore[arg-type]
            if advance:
                advance(1)
        return rows  # type: ignore[return-value]
    global _WORKER_CTX
    _WORKER_CTX = ctx
    size = max(20, min(200, len(todo) // (jobs * 4) or 1))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    payload = [[(refs[i].label, str(refs[i].path), refs[i].url) for i in chunk] for chunk in chunks]
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=gc.enable) as pool:  # a worker's garbage is its own
            for chunk, result in zip(chunks, pool.imap(_scan_chunk, payload)):
                for index, row in zip(chunk, result):
                    rows[index] = row
                if advance:
                    advance(len(chunk))
    finally:
        _WORKER_CTX = None
    return rows  # type: ignore[return-value]


SKILL_TEMPLATE = Path("foundation/skill-template.md")
PART_SCHEMA = "agent-foundation.fleet-part"
PART_SCHEMA_VERSION = 1


def run_context(root: Path, foundation: Any, posture_source: str, *, latest: str | None = None,
                threshold: float | None = None, skill_template: Path | None = None) -> dict[str, Any]:
    """Everything the report is computed from besides the rows: the releases and their dates, the registry's
    skills and the org's skill template, the threshold. A shard carries it, so a merge needs no checkout."""
    latest, releases = versions.latest_release(root, latest)
    dates = versions.release_dates(root)
    template_path = skill_template or root / SKILL_TEMPLATE
    try:
        template_text = template_path.read_text(encoding="utf-8")
    except OSError:
        if skill_template is not None:
            raise ValueError(f"--skill-template {skill_template}: cannot read it; give the org's SKILL.md skeleton")
        template_text = ""
    return {
        "template_root": str(root),
        "latest": latest,
        "releases": releases,
        "release_dates": {release: dates[release] for release in releases if release in dates},
        "registry_skills": {name: skill.files["SKILL.md"].decode("utf-8", "replace") for name, skill in foundation.skills.items()},
        "skill_template": template_text,
        "default_skills": list(foundation.recommended_skills),
        "threshold": threshold if threshold is not None else similarity.DEFAULT_THRESHOLD,
        "posture_source": posture_source,
    }


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise ValueError(f"--shard {text!r}: write it as I/N with 1 <= I <= N, e.g. --shard 2/8")
    return int(match.group(1)), int(match.group(2))


def in_shard(label: str, shard: tuple[int, int] | None) -> bool:
    """Whether a repository belongs to shard I of N: by a hash of its source as given, so every machine given
    the same sources splits them the same way, whatever order they are listed in."""
    return shard is None or zlib.crc32(label.encode("utf-8", "surrogateescape")) % shard[1] == shard[0] - 1


def collect(root: Path, source_args: list[str], *, latest: str | None = None, cache: Path | None = None,
            offline: bool = False, jobs: int | None = None, audit_paths: list[Path] | None = None,
            repo_audit: bool = True, threshold: float | None = None, shard: tuple[int, int] | None = None,
            incremental: Path | None = None, git_history: bool = True, skill_template: Path | None = None,
            progress: "Progress | None" = None) -> dict[str, Any]:
    """Scan the fleet (or one shard of it): {"context", "rows", "audit", "stats"} - the raw material of a report."""
    root = Path(root).resolve()
    foundation = load_foundation(root / "foundation")
    check, check_source = posture.load_check(root)
    ctx = scan.Context.build(foundation, check)
    ctx.git_history = git_history
    context = run_context(root, foundation, check_source, latest=latest, threshold=threshold, skill_template=skill_template)
    jobs = max(1, jobs or os.cpu_count() or 1)
    progress = progress or Progress()

    refs, urls = sources.expand(source_args)
    refs = [ref for ref in refs if in_shard(ref.label, shard)]
    urls = [url for url in urls if in_shard(url, shard)]
    progress.start(len(refs) + 2 * len(urls))
    refs += sources.fetch_all(urls, cache or sources.default_cache(), offline=offline, jobs=max(jobs, 4),
                              progress=lambda: progress.advance(1))
    state = incremental_state.load(incremental, incremental_state.context_key(ctx, context)) if incremental else None
    rows, stats = incremental_state.scan_with(state, refs, lambda todo: scan_all(ctx, todo, jobs, progress.advance),
                                              progress.advance)
    if incremental:
        incremental_state.save(incremental, state, refs, rows)

    summary = audit_logs.AuditSummary(audit_logs.families(foundation))
    if shard is None or shard[0] == 1:  # logs named on the command line are read once, by the first shard
        for path in audit_logs.log_files(audit_paths or []):
            summary.add_file(path)
    if repo_audit:
        for ref, row in zip(refs, rows):
            if ref.path is not None and ref.url is None and not row["error"]:
                log = (audit_logs.repo_log(ref.path, row["_audit_log"], policy_read=True) if "_audit_log" in row
                       else audit_logs.repo_log(ref.path))
                if log is not None:
                    summary.add_file(log, row["team"])
    progress.finish()
    return {"context": context, "rows": rows, "audit": summary.as_json() if summary.files or summary.errors else None,
            "stats": stats, "shard": list(shard) if shard else None}


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the fleet's rows are built up and the report computed: they are
    millions of long-lived objects with no cycles, and each full collection walks them all, so the
    collections' work grew faster than the fleet (the per-repository cost of 10,000 repositories was 10%
    above that of 1,000 with it, equal without)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_report(root: Path, source_args: list[str], **options: Any) -> dict[str, Any]:
    """The fleet report as JSON data (docs/fleet-schema.json). Raises ValueError for bad arguments."""
    with gc_paused():
        raw = collect(root, source_args, **options)
        incremental = options.get("incremental")
        cache = incremental_state.load_similarity(incremental) if incremental else None
        data = report.build(raw["rows"], raw["context"], audit=raw["audit"], similarity_cache=cache)
        data["scan"] = raw["stats"]
        if cache is not None:
            incremental_state.save_similarity(incremental, cache)
            data["scan"]["similarity"] = cache.stats()
    return data


def part(raw: dict[str, Any]) -> dict[str, Any]:
    """One shard's output for `fleet merge`: its rows before the report is built, and the run's context."""
    return {"schema": PART_SCHEMA, "schema_version": PART_SCHEMA_VERSION, "shard": raw["shard"], "context": raw["context"],
            "rows": raw["rows"], "audit": raw["audit"], "scan": raw["stats"]}


def merge_parts(parts: list[tuple[str, Any]]) -> dict[str, Any]:
    """The report of the whole fleet from every shard's part: exactly what one run over all of them gives."""
    if not parts:
        raise ValueError("fleet merge: give the shards' JSON files (fleet ... --shard I/N --json PART.json)")
    shards: dict[int, str] = {}
    context = None
    total = None
    rows: list[dict[str, Any]] = []
    audits = []
    stats = {"scanned": 0, "reused": 0}
    for name, data in parts:
        if not isinstance(data, dict) or data.get("schema") != PART_SCHEMA:
            raise ValueError(f"fleet merge: {name} is not a fleet shard (write one with fleet ... --shard I/N --json {name})")
        if data.get("schema_version") != PART_SCHEMA_VERSION:
            raise ValueError(f"fleet merge: {name} has shard schema {data.get('schema_version')}, this agent-foundation reads "
                             f"{PART_SCHEMA_VERSION}: run every shard with the same version")
        index, count = data["shard"] if data.get("shard") else (1, 1)
        if total is not None and count != total:
            raise ValueError(f"fleet merge: {name} is shard {index}/{count}, but another part says there are {total} shards")
        total = count
        if index in shards:
            raise ValueError(f"fleet merge: {name} and {shards[index]} are both shard {index}/{count}")
        shards[index] = name
        if context is not None and data["context"] != context:
            differs = sorted(k for k in set(context) | set(data["context"]) if context.get(k) != data["context"].get(k))
            raise ValueError(f"fleet merge: {name} was scanned against another template ({', '.join(differs)} differ): "
                             "run every shard from the same checkout, with the same --latest")
        context = data["context"]
        rows += data["rows"]
        if data.get("audit"):
            audits.append(data["audit"])
        for key in stats:
            stats[key] += int((data.get("scan") or {}).get(key, 0))
    missing = sorted(set(range(1, (total or 0) + 1)) - set(shards))
    if missing:
        raise ValueError(f"fleet merge: shard(s) {', '.join(f'{i}/{total}' for i in missing)} missing; merge every shard's part")
    with gc_paused():
        data = report.build(rows, context, audit=audit_logs.merge(audits) if audits else None)
    data["scan"] = stats
    return data


class Progress:
    """No progress display (tests, benchmarks, small fleets, output not a terminal)."""

    def start(self, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class RichProgress(Progress):
    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

        self.bar = Bar(TextColumn("scanning the fleet"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True), transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("scan", total=total)

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)

    def finish(self) -> None:
        self.bar.stop()


@contextlib.contextmanager
def _output(target: str) -> Iterator[Any]:
    """stdout for "-"; otherwise the file, written whole or not at all (a failure leaves no half-written file)."""
    if target == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


open_output = _output  # public: "-" is stdout, anything else a file (parent folders made); used by rollout


def refuse_missing_sources(command: str, source_args: list[str]) -> bool:
    """Name each command-line source that is neither a git URL nor an existing file or folder (a usage error)."""
    missing = [source for source in source_args if not sources.is_url(source) and not Path(source).expanduser().exists()]
    for source in missing:
        print(f"agent-foundation {command}: {source} does not exist; give a team repository folder, a folder of them, "
              "a file listing them, or a git URL", file=sys.stderr)
    return bool(missing)


def _count_sources(source_args: list[str]) -> int:
    try:
        refs, urls = sources.expand(source_args)
        return len(refs) + len(urls)
    except OSError:
        return 0


def _load_part(path: str) -> tuple[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return path, json.load(handle)
    except OSError as error:
        raise ValueError(f"fleet merge: cannot read {path}: {error.strerror or error}") from error
    except ValueError as error:
        raise ValueError(f"fleet merge: {path} is not JSON ({error}); was the shard killed while writing it?") from error


def run(args: argparse.Namespace) -> int:
    from . import output_html, output_json, output_markdown, output_terminal

    if args.similarity is not None and not 0 < args.similarity <= 1:
        print("agent-foundation fleet: --similarity must be between 0 and 1 (e.g. 0.5)", file=sys.stderr)
        return 2
    merging = args.sources[0] == "merge"
    if not merging and refuse_missing_sources("fleet", args.sources):
        return 2
    try:
        shard = parse_shard(args.shard)
        if merging:
            if shard:
                raise ValueError("fleet merge takes no --shard: give it every shard's part")
            data = merge_parts([_load_part(path) for path in args.sources[1:]])
        else:
            if shard and not args.json:
                raise ValueError("--shard writes the shard's part for `fleet merge`: add --json PART.json")
            show_progress = sys.stderr.isatty() and _count_sources(args.sources) >= PROGRESS_MIN_REPOS
            options = dict(latest=args.latest, cache=args.cache, offline=args.offline, jobs=args.jobs, audit_paths=args.audit,
                           repo_audit=not args.no_repo_audit, threshold=args.similarity, shard=shard,
                           incremental=args.incremental, git_history=not args.no_git_history, skill_template=args.skill_template,
                           progress=RichProgress() if show_progress else None)
            if shard:
                raw = collect(args.root, args.sources, **options)
                with _output(args.json) as out:
                    out.write(output_json.dumps(part(raw)))
                print(f"shard {shard[0]}/{shard[1]}: {len(raw['rows'])} repositories ({raw['stats']['reused']} unchanged) "
                      f"written to {args.json}; combine every shard with: agent-foundation fleet merge PART.json... --json REPORT.json",
                      file=sys.stderr)
                return 0
            data = build_report(args.root, args.sources, **options)
        if args.record:
            history.record(args.record, data, args.recorded_at)
            data["trends"] = history.trends(args.record)
        elif args.history:
            data["trends"] = history.trends(args.history)
    except (ValueError, FoundationError, history.HistoryError, ImportError) as error:
        print(f"agent-foundation fleet: {error}", file=sys.stderr)
        return 2

    wrote_stdout = False
    if args.json:
        with _output(args.json) as out:
            out.write(output_json.dumps(data))
        wrote_stdout |= args.json == "-"
    if args.markdown:
        with _output(args.markdown) as out:
            out.write(output_markdown.render(data))
        wrote_stdout |= args.markdown == "-"
    if args.html:
        with _output(args.html) as out:
            out.write(output_html.render(data))
        if not wrote_stdout:
            print(f"wrote {args.html}", file=sys.stderr)
    if args.sarif:
        from . import output_sarif

        with _output(args.sarif) as out:
            out.write(json.dumps(output_sarif.render(data, Path(args.root)), indent=2) + "\n")
        wrote_stdout |= args.sarif == "-"
    if not wrote_stdout:
        output_terminal.show(data, top=args.top, stderr_only=False)
    read = [r for r in data["repos"] if not r["error"]]
    if not read:
        print(f"agent-foundation fleet: no team repository found in {' '.join(args.sources)}" if not data["repos"] else
              f"agent-foundation fleet: none of the {len(data['repos'])} repositories could be read (listed above)", file=sys.stderr)
        return 1
    if args.fail_on_risk is not None:
        unread = len(data["repos"]) - len(read)
        if unread:
            print(f"agent-foundation fleet: {unread} repositories could not be read, so their risk is unknown", file=sys.stderr)
            return 1
        worst = max((r["risk"]["score"] for r in read if r["risk"]), default=0)
        if worst >= args.fail_on_risk:
            return 1
    return 0
