"""Run the fleet report: gather sources, scan every repository, build the report, record it, print it."""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

from ..foundation import FoundationError, load_foundation
from . import audit as audit_logs
from . import history, posture, report, scan, similarity, sources, versions

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
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for chunk, result in zip(chunks, pool.imap(_scan_chunk, payload)):
                for index, row in zip(chunk, result):
                    rows[index] = row
                if advance:
                    advance(len(chunk))
    finally:
        _WORKER_CTX = None
    return rows  # type: ignore[return-value]


def registry_docs(foundation: Any) -> list[similarity.Doc]:
    return [similarity.Doc(None, name, "registry", skill.files["SKILL.md"].decode("utf-8", "replace"))
            for name, skill in foundation.skills.items()]


def build_report(root: Path, source_args: list[str], *, latest: str | None = None, cache: Path | None = None,
                 offline: bool = False, jobs: int | None = None, audit_paths: list[Path] | None = None,
                 repo_audit: bool = True, threshold: float | None = None,
                 progress: "Progress | None" = None) -> dict[str, Any]:
    """The fleet report as JSON data (docs/fleet-schema.json). Raises ValueError for bad arguments."""
    root = Path(root).resolve()
    foundation = load_foundation(root / "foundation")
    check, check_source = posture.load_check(root)
    ctx = scan.Context.build(foundation, check)
    latest, releases = versions.latest_release(root, latest)
    jobs = max(1, jobs or os.cpu_count() or 1)
    progress = progress or Progress()

    refs, urls = sources.expand(source_args)
    progress.start(len(refs) + 2 * len(urls))
    refs += sources.fetch_all(urls, cache or sources.default_cache(), offline=offline, jobs=max(jobs, 4),
                              progress=lambda: progress.advance(1))
    rows = scan_all(ctx, refs, jobs, progress.advance)

    summary = audit_logs.AuditSummary(audit_logs.families(foundation))
    for path in audit_logs.log_files(audit_paths or []):
        summary.add_file(path)
    if repo_audit:
        for ref, row in zip(refs, rows):
            if ref.path is not None and ref.url is None and not row["error"]:
                log = audit_logs.repo_log(ref.path)
                if log is not None:
                    summary.add_file(log, row["team"])
    audit_json = summary.as_json() if summary.files or summary.errors else None
    progress.finish()
    return report.build(rows, latest=latest, releases=releases, registry_docs=registry_docs(foundation),
                        threshold=threshold if threshold is not None else similarity.DEFAULT_THRESHOLD,
                        audit=audit_json, posture_source=check_source, template_root=str(root))


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
    if target == "-":
        yield sys.stdout
    else:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            yield handle


open_output = _output  # public: "-" is stdout, anything else a file (parent folders made); used by rollout


def _count_sources(source_args: list[str]) -> int:
    try:
        refs, urls = sources.expand(source_args)
        return len(refs) + len(urls)
    except OSError:
        return 0


def run(args: argparse.Namespace) -> int:
    from . import output_html, output_json, output_markdown, output_terminal

    if args.similarity is not None and not 0 < args.similarity <= 1:
        print("agent-foundation fleet: --similarity must be between 0 and 1 (e.g. 0.5)", file=sys.stderr)
        return 2
    show_progress = sys.stderr.isatty() and _count_sources(args.sources) >= PROGRESS_MIN_REPOS
    try:
        data = build_report(args.root, args.sources, latest=args.latest, cache=args.cache, offline=args.offline,
                            jobs=args.jobs, audit_paths=args.audit, repo_audit=not args.no_repo_audit,
                            threshold=args.similarity, progress=RichProgress() if show_progress else None)
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
            output_json.write(data, out)
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
    if not wrote_stdout:
        output_terminal.show(data, top=args.top, stderr_only=False)
    if args.fail_on_risk is not None:
        worst = max((r["risk"]["score"] for r in data["repos"] if r["risk"]), default=0)
        if worst >= args.fail_on_risk:
            return 1
    return 0
