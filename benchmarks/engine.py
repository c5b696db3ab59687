"""Engine benchmark: accuracy, speed and memory against the targets of issue 2, side by side in one run.

    python benchmarks/engine.py [--core 0] [--seconds 5] [--skip-wnut]

Pins itself to one core (as ``taskset -c 0`` would), prints the machine, then one line per figure with
its target, and exits 1 if any target is missed (2 if the public corpora are absent, since the loan and
WNUT figures cannot be measured without them). Throughput is ``recognize()`` per document, no HTTP or
JSON, measured for the loan model on loan text and for the sample model on invoices, both cut at word
boundaries to ~1,000 and ~100 characters; it and the training time are medians of repeated rounds,
because these machines are shared and noisy. Serving RSS is the peak resident memory (VmHWM) of a fresh
process that loads the sample model and predicts 500 documents.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import Figure, Report, machine
from emulator.container.model_source import model_folder
from emulator.ner import (
    DirectorySource,
    Document,
    Project,
    Recognizer,
    evaluate,
    load_model,
    parse_project,
    save_model,
    train_crf,
    train_project,
)
from emulator.quickstart import SAMPLE_MODEL_LABEL
from fixtures.public_corpora import ABSENT_REASON, shared_data_dir
from fixtures.sample_project import PROJECT_NAME, build_project
from fixtures.sized_texts import sample_texts, texts_of_size


def _load(root: Path, name: str) -> Project:
    return parse_project(json.loads((root / name).read_text(encoding="utf-8")), DirectorySource(root))


def _micro_f1_counts(recognizer: Recognizer, documents: Sequence[Document]) -> tuple[int, int, int]:
    report = evaluate(recognizer.recognize, documents)
    cats = report.categories.values()
    return (
        sum(c.true_positives for c in cats),
        sum(c.false_positives for c in cats),
        sum(c.false_negatives for c in cats),
    )


def loan_cross_validation(project: Project, folds: int = 5) -> float:
    """Pooled micro-F1 over a seeded 5-fold split of the 20 documents (train on 16, test on 4)."""
    documents = list(project.documents)
    order = list(range(len(documents)))
    random.Random(0).shuffle(order)
    tp = fp = fn = 0
    for fold in range(folds):
        held = set(order[fold::folds])
        train = [d for i, d in enumerate(documents) if i not in held]
        test = [d for i, d in enumerate(documents) if i in held]
        counts = _micro_f1_counts(Recognizer(train_crf(train), project.categories), test)
        tp, fp, fn = tp + counts[0], fp + counts[1], fn + counts[2]
    return 2 * tp / (2 * tp + fp + fn)


def wnut_test_f1(project: Project) -> float:
    train = [d for d in project.documents if d.dataset == "Train"]
    test = [d for d in project.documents if d.dataset == "Test"]
    tp, fp, fn = _micro_f1_counts(Recognizer(train_crf(train), project.categories), test)
    return 2 * tp / (2 * tp + fp + fn)


def throughput(recognize: Callable[[str], object], texts: Sequence[str], seconds: float, rounds: int = 5) -> float:
    """Median documents per second of ``rounds`` rounds sharing ``seconds`` of wall time, after a warm-up pass.

    The median, because these machines are shared and noisy: one slow round must not decide the figure.
    """
    for text in texts:
        recognize(text)
    rates = []
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / rounds:
            for text in texts:
                recognize(text)
            count += len(texts)
        rates.append(count / elapsed)
    return statistics.median(rates)


# VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so a child of this (large) process
# would report the parent's peak.
_RSS_PROBE = """
import re, sys
sys.path.insert(0, sys.argv[1])
from emulator.ner import load_model
from fixtures.sample_project import build_project
texts = [d.text for d in build_project(seed=7, documents=100).documents]
recognizer = load_model(sys.argv[2]).recognizer
for _ in range(5):
    for text in texts:
        recognizer.recognize(text)
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024)
"""


def engine_documents_per_second(models: Path, size: int, core: int) -> float:
    """The sample model's ``recognize`` alone on ``core``, on the benchmark documents of ``size`` characters:
    the ceiling of one core. Measured in a fresh process, so that no thread of the caller (an emulated cloud,
    a log reader) takes the GIL from it."""
    script = (
        "import os, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "from benchmarks.engine import _sample_rate; print(_sample_rate(Path(sys.argv[2]), int(sys.argv[3])))"
    )
    repo = str(Path(__file__).resolve().parents[1])
    command = ["taskset", "-c", str(core), sys.executable, "-c", script, repo, str(models), str(size)]
    return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def _sample_rate(models: Path, size: int) -> float:
    recognizer = load_model(model_folder(models, PROJECT_NAME, SAMPLE_MODEL_LABEL)).recognizer
    return throughput(recognizer.recognize, sample_texts(size), seconds=5.0)


def serving_rss_mb(model_dir: Path) -> float:
    repo = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, repo, str(model_dir)], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to (default 0)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per throughput figure")
    parser.add_argument("--skip-wnut", action="store_true", help="skip the WNUT-17 figure (about a minute)")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.core})
    print(machine(f"pinned to core {args.core}"), flush=True)
    figures = Report()
    report = figures.add

    sample = build_project()
    sample_model = train_project(sample, "bench").model
    data = shared_data_dir()
    if data is None:
        print(f"SKIP loan and WNUT figures: {ABSENT_REASON}")
    else:
        loan = _load(data / "loan-agreements" / "azure-format", "LoanAgreement.json")
        report(Figure("loan sample: 5-fold cross-validated micro-F1", loan_cross_validation(loan), 0.97, True))
        durations = []
        for _ in range(3):
            start = time.perf_counter()
            loan_crf = train_crf(loan.documents)
            durations.append(time.perf_counter() - start)
        report(
            Figure(
                "loan sample: training time, 20 documents (median of 3)", statistics.median(durations), 5.0, False, "s"
            )
        )
        loan_recognizer = Recognizer(loan_crf, loan.categories)
        for size, target in ((1000, 250), (100, 2000)):
            texts = texts_of_size((d.text for d in loan.documents), size)
            rate = throughput(loan_recognizer.recognize, texts, args.seconds)
            report(Figure(f"loan model: documents/s at ~{size:,} characters", rate, target, True, "docs/s"))
        if not args.skip_wnut:
            wnut = _load(data / "wnut17" / "azure-format", "WNUT17.json")
            report(Figure("WNUT-17: Test micro-F1, trained on Train", wnut_test_f1(wnut), 0.15, True))
    for size, target in ((1000, 250), (100, 2000)):
        texts = texts_of_size((d.text for d in sample.documents), size)
        rate = throughput(sample_model.recognizer.recognize, texts, args.seconds)
        report(Figure(f"sample model: documents/s at ~{size:,} characters", rate, target, True, "docs/s"))
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_model(sample_model, Path(tmp) / "model")
        report(
            Figure(
                "sample model: serving RSS (load + 500 predictions)",
                serving_rss_mb(model_dir),
                100,
                False,
                "MB",
            )
        )
    verdict = figures.verdict()
    return verdict or (2 if data is None else 0)


if __name__ == "__main__":
    sys.exit(main())
