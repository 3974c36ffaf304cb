#!/usr/bin/env python3
"""mutation.py - mutation testing of rpb-broker by the strict suite (issue 12).

Generates source mutants of librpb's protocol decisions (mutants.py
generate: relational, logical and arithmetic operator replacement,
constants +-1, negated conditions, removed statements, swapped adjacent
checks), builds each as build-dir/mutants/<name> (conformance/mutants/: only
the mutated translation unit recompiles), a few at a time while it runs
`rpb-conform broker --tier strict` against those already built (JOBS at a
time), and writes a Markdown report: the score killed / non-equivalent, a
table per operator class and every surviving mutant with its diff and its
note from the notes file (`NAME equivalent REASON` or `NAME killed-by
CASE-ID`; mutants without a note are "open").

A mutant is killed when the suite fails (exit 1), cannot attach to the
broker (exit 3: it died or never listened) or does not finish within the
per-run timeout; it survives when the suite passes.  The suite stops at
the first failing case (--fail-fast): a killed mutant costs only the cases
up to the one that kills it.  A mutant that does not compile is stillborn
and not counted.  The run is bounded: no build or suite run starts after
--budget-minutes; the mutants left are reported as not run.  They run in an
order shuffled by --seed, so a run the budget cuts short is a random sample.
rpb-conform runs as the leader of a session of its own; when it exits or
times out every process left in that session (the broker it spawned, its
children) is killed, and the run ends by checking that no process of a
mutant binary is left.

usage: mutation.py [--sample N] [--seed S] [--jobs J] [--budget-minutes M]
                   [--build-dir DIR] [--report FILE] [--notes FILE]
                   [--mutants FILE --no-configure]
       mutation.py --from-results BUILD-DIR/results.json [--report FILE] [--notes FILE]
       mutation.py --rerun-survivors BUILD-DIR/results.json [--jobs J] [--report FILE]
The results of a run are kept in BUILD-DIR/results.json (and each verdict,
as it comes, in BUILD-DIR/progress.jsonl); --from-results rewrites its
report after the notes changed; --rerun-survivors runs its survivors again
against the suite as it is now (after cases were added) and merges them in.
Exit codes: 0 report written, 1 the machinery failed (the reference broker
does not pass, the build or the report failed), 2 usage.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import queue
import random
import tempfile
import threading
import time
import concurrent.futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutants  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLASSES = ["relational", "logical", "arithmetic", "constant", "negated-condition",
           "removed-statement", "swapped-checks"]
# as tools/run conform starts rpb-broker: the fixture's services, the
# launched one (conform-launch: the rpb-backend beside rpb-conform) included
SPAWN = ("{broker} --socket {{socket}} --launch {{services}} --rate-limit 500/10000 "
         "--handshake-timeout 1000 --handoff-ack-timeout 1000 --handoff-failures 1000/1000")


def mutant_class(name):
    for c in CLASSES:
        if f"-{c}-" in name:
            return c
    return "other"


def cmake_build(build_dir, targets, keep_going, jobs):
    cmd = ["cmake", "--build", build_dir, "-j", str(jobs), "--target"] + targets
    if keep_going:
        cmd += ["--", "-k"]
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def processes():
    """(pid, stat fields after the parenthesised command: state ppid pgrp
    session ...) of every process that can still be read."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        yield int(d), stat[stat.rindex(")") + 2:].split()


def exe_of(pid):
    """The executable of pid, or None when it cannot be read."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def session_members(sid):
    """The live (not zombie) processes of session sid."""
    return [pid for pid, fields in processes() if fields[0] != "Z" and int(fields[3]) == sid]


def kill_session(sid):
    """SIGKILLs every process of session sid until none is left; how many
    it found.  rpb-conform runs as the leader of a session of its own and
    starts the broker in a process group of its own inside it, so killing
    rpb-conform's process group would miss the broker: the session holds
    both, and whatever the broker forked."""
    found = set()
    while True:
        pids = session_members(sid)
        if not pids:
            return len(found)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        found.update(pids)
        time.sleep(0.01)  # the kernel's teardown of what was just killed


# Every rpb-conform this run starts carries RUN_MARK in its environment,
# and so do the brokers it spawns and the backends they launch (LAUNCH-002
# passes the broker's environment on).  Only marked processes are ever
# killed: tests running beside the mutation run (ctest -j) use the same
# build/bin/rpb-backend, and their backends are not ours.
RUN_MARK = f"RPB_MUTATION_RUN={os.getpid()}-{time.monotonic_ns()}".encode()


def marked(pid):
    """Whether pid carries this run's RUN_MARK in its environment."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return RUN_MARK in f.read().split(b"\0")
    except OSError:
        return False


def run_backends(build):
    """Pids of this run's backends (build/bin/rpb-backend with RUN_MARK) that
    no mutant broker of build is the parent of any more: rpb-broker starts a
    backend in a session of its own (LAUNCH), so killing a run's session
    misses it; the broker stops it when it exits cleanly, not when it
    crashes or is killed."""
    backend, mutants_dir = os.path.join(build, "bin", "rpb-backend"), os.path.join(build, "mutants")
    pids = []
    for pid, fields in processes():
        parent = exe_of(int(fields[1]))
        if exe_of(pid) == backend and parent is not None and marked(pid) \
                and os.path.dirname(parent) != mutants_dir:
            pids.append(pid)
    return pids


def stray_mutants(build):
    """Pids of this run's processes still running a mutant broker of build
    or a backend one launched (build/bin/rpb-backend)."""
    backend, mutants_dir = os.path.join(build, "bin", "rpb-backend"), os.path.join(build, "mutants")
    pids = []
    for pid, _ in processes():
        exe = exe_of(pid)
        if exe is not None and (exe == backend or os.path.dirname(exe) == mutants_dir) and marked(pid):
            pids.append(pid)
    return pids


def run_suite(conform, broker, workdir, timeout):
    """(verdict, first failing case or detail) of the strict suite against broker
    (build-dir/mutants/NAME).  No process of the run outlives it: on a
    timeout, and after any exit, the rest of rpb-conform's session (the
    broker and its children) is killed, and so are the backends a mutant
    broker launched and left behind."""
    report = os.path.join(workdir, os.path.basename(broker) + ".json")
    cmd = [conform, "broker", "--tier", "strict", "--spawn", SPAWN.format(broker=broker),
           "--json", report, "--fail-fast"]
    env = dict(os.environ)
    name, value = RUN_MARK.decode().split("=", 1)
    env[name] = value
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=env)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(proc.pid)
        proc.wait()
        return "killed", f"the suite did not finish in {timeout} s"
    finally:
        kill_session(proc.pid)
        for pid in run_backends(os.path.dirname(os.path.dirname(broker))):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if rc == 0:
        return "survived", ""
    if rc == 3:
        return "killed", "the broker did not start or died"
    if rc != 1:
        return "error", f"rpb-conform exited {rc}"
    try:
        with open(report, encoding="utf-8") as f:
            cases = json.load(f).get("cases", [])
        failed = [c["id"] for c in cases if c.get("status") == "fail"]
    except (OSError, ValueError, KeyError):
        failed = []
    return "killed", (failed[0] + (f" and {len(failed) - 1} more" if len(failed) > 1 else "")
                      if failed else "")


def load_notes(path):
    notes = {}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, kind, text = (line.rstrip("\n").split(None, 2) + ["", ""])[:3]
                    notes[name] = (kind, text)
    return notes


def write_report(path, run, ms, results, notes):
    """The Markdown report of a run (run: its "started" time, "seed",
    "jobs", "total" candidates and "seconds" of wall time)."""
    built = [m for m in ms if results[m.name][0] != "stillborn"]
    killed = [m for m in built if results[m.name][0] == "killed"]
    survived = [m for m in built if results[m.name][0] == "survived"]
    equivalent = [m for m in survived if notes.get(m.name, ("",))[0] == "equivalent"]
    not_run = [m for m in built if results[m.name][0] == "not-run"]
    counted = len(killed) + len(survived) - len(equivalent)
    score = 100.0 * len(killed) / counted if counted else 0.0
    out = ["# Mutation testing of rpb-broker by the strict suite", "",
           "Generated by `tools/run mutation` (tools/mutation/mutation.py); the",
           "mechanism is conformance/mutants/FAULTS.md's.  Do not edit by hand: the",
           "notes on survivors live in tools/mutation/survivors.txt.", "",
           f"- run: {run['started']}, seed {run['seed']}, "
           + (f"all {len(ms)}" if len(ms) == run["total"] else f"sample {len(ms)} of {run['total']}")
           + f" candidate mutants, {run['jobs']} at a time, {run['seconds'] / 60:.1f} min wall"
           + (f", load average {run['load'][0]:.1f} at the start and {run['load'][1]:.1f} at the end"
              if "load" in run else "")
           + (f"; processes left running after their run: {run['strays']}" if "strays" in run
              else ""),
           *([f"- survivors re-run {r['started']} against the suite as it is then: "
              f"{r['count']} mutants, {r['seconds'] / 60:.1f} min wall"] if (r := run.get("rerun"))
             else []),
           f"- **score: {len(killed)} killed / {counted} non-equivalent = {score:.1f} %** "
           f"({len(survived)} survived, {len(equivalent)} of them equivalent; "
           f"{len(ms) - len(built)} stillborn; {len(not_run)} not run within the budget)", "",
           "| class | mutants | stillborn | killed | survived | equivalent |",
           "|---|---|---|---|---|---|"]
    for c in CLASSES:
        of = [m for m in ms if mutant_class(m.name) == c]
        count = {v: sum(1 for m in of if results[m.name][0] == v)
                 for v in ("stillborn", "killed", "survived")}
        eq = sum(1 for m in of if m in equivalent)
        out.append(f"| {c} | {len(of)} | {count['stillborn']} | {count['killed']} | "
                   f"{count['survived']} | {eq} |")
    later = [m for m in killed if notes.get(m.name, ("",))[0] == "killed-by"]
    if later:
        out += ["", "## Killed by cases added after the run", "",
                "Survivors of the run that the survivors' re-run found killed, each by the case",
                "added for it:", "", "| mutant | case |", "|---|---|"]
        out += [f"| {m.name} | `{notes[m.name][1]}` |" for m in later]
    out += ["", "## Survivors", ""]
    if not survived:
        out.append("None.")
    for m in survived:
        kind, text = notes.get(m.name, ("open", "not yet analysed"))
        out += [f"### {m.name}", "", f"**{kind}**: {text}", "", "```diff",
                mutants.unified_diff(m, ROOT).rstrip("\n"), "```", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def run_mutants(ms, build, conform, jobs, timeout, deadline, progress):
    """The verdict of each of ms: built a batch at a time while the suite
    runs against those built, jobs at a time, until the deadline (the rest
    are "not-run").  Each verdict is also appended to the progress file (one
    JSON line each) as it comes."""
    bindir = os.path.join(build, "mutants")
    results = {}
    lock = threading.Lock()
    work = tempfile.mkdtemp(prefix="rpb-mutation.")

    def record(name, res):
        with lock:
            results[name] = res
            with open(progress, "a", encoding="utf-8") as f:
                f.write(json.dumps([name, *res]) + "\n")

    built = queue.Queue()
    # the objects every mutant links are up to date (the reference was just
    # built from them): with a Makefile generator, build each mutant alone
    # (its /fast target) instead of re-checking them per mutant, which
    # costs more than the mutant itself
    fast = "/fast" if os.path.exists(os.path.join(build, "Makefile")) else ""

    def builder():
        """Builds the mutants a few at a time, handing each batch to the
        runners, until all are built or the budget is spent."""
        step = 8 * jobs
        for k in range(0, len(ms), step):
            if time.monotonic() > deadline:
                break
            batch = ms[k:k + step]
            for m in batch:  # a stale binary must not stand in for one that no longer builds
                if os.path.exists(os.path.join(bindir, m.name)):
                    os.unlink(os.path.join(bindir, m.name))
            cmake_build(build, [f"mutant-{m.name}{fast}" for m in batch], True, jobs)
            built.put(batch)
        built.put(None)

    def one(m):
        if time.monotonic() > deadline:
            res = ("not-run", "over the time budget")
        else:
            res = run_suite(conform, os.path.join(bindir, m.name), work, timeout)
        record(m.name, res)

    try:
        thread = threading.Thread(target=builder)
        thread.start()
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            runs = []
            for batch in iter(built.get, None):
                for m in batch:
                    if os.path.exists(os.path.join(bindir, m.name)):
                        runs.append(pool.submit(one, m))
                    else:
                        record(m.name, ("stillborn", "does not compile or does not apply"))
            for f in runs:
                f.result()
        thread.join()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for m in ms:
        results.setdefault(m.name, ("not-run", "not built within the time budget"))
    return results


def prepare(build, jobs, timeout):
    """Builds the harness and the reference broker and checks the reference
    passes; rpb-conform's path, or None (the reason printed)."""
    if cmake_build(build, ["rpb-conform", "rpb-backend", "mutant-reference"], False, jobs) != 0:
        print("mutation: building rpb-conform, rpb-backend and the reference failed",
              file=sys.stderr)
        return None
    conform = os.path.join(build, "bin", "rpb-conform")
    work = tempfile.mkdtemp(prefix="rpb-mutation.")
    try:
        verdict, detail = run_suite(conform, os.path.join(build, "mutants", "reference"), work,
                                    timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if verdict != "survived":
        print(f"mutation: the reference broker does not pass the strict suite: {detail}",
              file=sys.stderr)
        return None
    return conform


def check_strays(build):
    """Kills and counts the processes of mutant brokers (and the backends
    they launched) still running."""
    strays = stray_mutants(build)
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print(f"mutation: {len(strays)} mutant processes outlived their runs", flush=True)
    return len(strays)


def finish(build, run, path, results, args):
    errors = [n for n, r in results.items() if r[0] == "error"]
    if errors:
        print(f"mutation: rpb-conform failed to run for {', '.join(errors)}", file=sys.stderr)
        return 1
    with open(os.path.join(build, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"run": run, "mutants": os.path.abspath(path), "results": results}, f)
    write_report(args.report, run, mutants.load(path), results, load_notes(args.notes))
    print(f"mutation: report in {args.report}")
    return 0


def rerun_survivors(args):
    """Runs the survivors of a saved run again (after cases were added) and
    merges their verdicts into it."""
    with open(args.rerun_survivors, encoding="utf-8") as f:
        saved = json.load(f)
    build = os.path.dirname(os.path.abspath(args.rerun_survivors))
    results = {k: tuple(v) for k, v in saved["results"].items()}
    ms = [m for m in mutants.load(saved["mutants"]) if results[m.name][0] == "survived"]
    start = time.monotonic()
    started = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    print(f"mutation: re-running {len(ms)} survivors ...", flush=True)
    conform = prepare(build, args.jobs, args.timeout)
    if conform is None:
        return 1
    progress = os.path.join(build, "rerun-progress.jsonl")
    open(progress, "w").close()
    results.update(run_mutants(ms, build, conform, args.jobs, args.timeout,
                               start + args.budget_minutes * 60, progress))
    run = dict(saved["run"])
    run["rerun"] = {"started": started, "count": len(ms), "seconds": time.monotonic() - start}
    run["strays"] = run.get("strays", 0) + check_strays(build)
    return finish(build, run, saved["mutants"], results, args)


def main(argv):
    ap = argparse.ArgumentParser(prog="mutation.py", description=__doc__.split("\n\n")[0],
                                 epilog="Exit codes: 0 report written, 1 the machinery failed, "
                                        "2 usage.")
    ap.add_argument("--sample", type=int, help="a random sample of N mutants (default: all)")
    ap.add_argument("--seed", type=int, default=1,
                    help="picks the sample and the order the mutants run in")
    ap.add_argument("--jobs", type=int, default=2, help="builds and suite runs at a time")
    ap.add_argument("--budget-minutes", type=float, default=30,
                    help="no build or suite run starts after this (the rest are reported "
                         "not run)")
    ap.add_argument("--timeout", type=int, default=60, help="seconds one suite run may take")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-mutation"))
    ap.add_argument("--report", default=os.path.join(ROOT, "conformance", "MUTATION.md"))
    ap.add_argument("--notes", default=os.path.join(ROOT, "tools", "mutation", "survivors.txt"))
    ap.add_argument("--mutants", help="an existing mutants file (with --no-configure: the one "
                                      "the build directory was configured with)")
    ap.add_argument("--no-configure", action="store_true",
                    help="use the build directory as it is configured")
    ap.add_argument("--from-results", metavar="FILE",
                    help="run nothing: rewrite the report of the run recorded in FILE "
                         "(build-dir/results.json) with the notes as they are now")
    ap.add_argument("--rerun-survivors", metavar="FILE",
                    help="run the survivors of the run recorded in FILE (build-dir/results.json) "
                         "against the suite as it is now, merge their verdicts into FILE and "
                         "rewrite the report")
    args = ap.parse_args(argv)
    if args.from_results:
        with open(args.from_results, encoding="utf-8") as f:
            saved = json.load(f)
        write_report(args.report, saved["run"], mutants.load(saved["mutants"]),
                     {k: tuple(v) for k, v in saved["results"].items()}, load_notes(args.notes))
        print(f"mutation: report in {args.report}")
        return 0
    if args.rerun_survivors:
        return rerun_survivors(args)
    start = time.monotonic()
    started = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    load_start = os.getloadavg()[0]
    build = os.path.abspath(args.build_dir)
    os.makedirs(build, exist_ok=True)
    total = len(mutants.generate(ROOT, None, None))
    path = args.mutants
    if path is None:
        path = os.path.join(build, "generated.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(mutants.format_generated(
                mutants.generate(ROOT, random.Random(args.seed), args.sample)))
    ms = mutants.load(path)
    if not args.no_configure:
        rc = subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                             f"-DRPB_MUTATION_FILE={os.path.abspath(path)}"],
                            stdout=subprocess.DEVNULL).returncode
        if rc != 0:
            print("mutation: cmake configure failed", file=sys.stderr)
            return 1
    print(f"mutation: {len(ms)} mutants of {total}; building the harness and the reference ...",
          flush=True)
    conform = prepare(build, args.jobs, args.timeout)
    if conform is None:
        return 1
    # a run the budget cuts short is then a random sample, not the file's head
    order = list(ms)
    random.Random(args.seed).shuffle(order)
    progress = os.path.join(build, "progress.jsonl")
    open(progress, "w").close()
    print(f"mutation: building and running the strict suite against each ({progress}) ...",
          flush=True)
    results = run_mutants(order, build, conform, args.jobs, args.timeout,
                          start + args.budget_minutes * 60, progress)
    run = {"started": started, "seed": args.seed, "jobs": args.jobs, "total": total,
           "seconds": time.monotonic() - start, "load": [load_start, os.getloadavg()[0]],
           "strays": check_strays(build)}
    return finish(build, run, path, results, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
