"""Where a dashboard server's Python time goes under load: a sampling profile from inside.

python -m reliefhub.bench.profile OUT.txt app.py --server.port 8600 --server.address 127.0.0.1

runs `streamlit run app.py ...` in this process with a thread that looks at every
other thread's stack every few milliseconds (sys._current_frames), from the
moment the process gets SIGUSR1 (send it once the load is under way, so the
server's start is not counted). Only threads running a page's script are
counted: an idle event loop is not work. The samples are of time, not CPU: a
thread waiting for DuckDB or for the GIL counts where it waits. On exit
(SIGTERM) OUT.txt lists the functions seen most, inclusive (on the stack) and
by own time (at the top of the stack), as shares of the samples.

Blind spot: the sampler needs the interpreter to take a sample, so a long call
that keeps it (Streamlit's garbage collection after every run was one) is never
seen, and waits with the interpreter free look larger. `py-spy record --gil`
(pip install py-spy) samples from outside what holds the interpreter
(docs/benchmark.md, "Streamlit's collection after every run").
"""

from __future__ import annotations

import collections
import signal
import sys
import threading
import time
from pathlib import Path

INTERVAL_S = 0.005
SHOWN = 30
# A frame of this function marks a thread that runs a page's script.
SCRIPT_FRAME = "_run_script"
# The checkout the server runs (its working directory): lines of its own code are named.
OUR_CODE = str(Path.cwd())


class Sampler:
    def __init__(self):
        self.samples = 0
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.own: collections.Counter[str] = collections.Counter()
        self.our_lines: collections.Counter[str] = collections.Counter()
        self.running = True
        self.counting = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        self.counting.wait()
        while self.running:
            for thread_id, frame in sys._current_frames().items():
                if thread_id != me:
                    self.take(frame)
            time.sleep(INTERVAL_S)

    def take(self, frame) -> None:
        names, our_line = [], None
        while frame is not None:
            code = frame.f_code
            names.append(f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})")
            if our_line is None and code.co_filename.startswith(OUR_CODE):
                our_line = f"{Path(code.co_filename).relative_to(OUR_CODE)}:{frame.f_lineno} ({code.co_name})"
            frame = frame.f_back
        if not any(name.startswith(SCRIPT_FRAME + " ") for name in names):
            return
        self.samples += 1
        self.own[names[0]] += 1
        self.inclusive.update(set(names))
        self.our_lines[our_line or "(Streamlit, outside the hub's code)"] += 1

    def report(self) -> str:
        lines = [f"{self.samples} samples of script threads, every {INTERVAL_S * 1000:g} ms"]
        counters = (
            ("inclusive", self.inclusive),
            ("own", self.own),
            ("innermost line of the hub", self.our_lines),
        )
        for title, counter in counters:
            lines.append(f"\n{title}:")
            for name, count in counter.most_common(SHOWN):
                lines.append(f"{100 * count / max(self.samples, 1):6.1f} %  {name}")
        return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    out, *streamlit_args = argv
    sampler = Sampler()
    threading.Thread(target=sampler.run, name="profile-sampler", daemon=True).start()

    def stop(*_):
        sampler.running = False
        Path(out).write_text(sampler.report())
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, lambda *_: sampler.counting.set())
    from streamlit.web import cli

    try:
        cli.main(["run", *streamlit_args], standalone_mode=False)
    finally:
        if sampler.running:
            stop()


if __name__ == "__main__":
    main(sys.argv[1:])
