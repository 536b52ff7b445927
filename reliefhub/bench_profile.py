"""Where a dashboard server's Python time goes under load: a sampling profile from inside.

python -m reliefhub.bench_profile OUT.txt app.py --server.port 8600 --server.address 127.0.0.1

runs `streamlit run app.py ...` in this process with a thread that looks at every
other thread's stack every few milliseconds (sys._current_frames). Only threads
running a page's script are counted: an idle event loop is not work. On exit
(Ctrl-C or SIGTERM) OUT.txt lists the functions seen most, inclusive (on the
stack) and by own time (at the top of the stack), as shares of the samples.
py-spy does this from outside, but is not installed here.
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


class Sampler:
    def __init__(self):
        self.samples = 0
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.own: collections.Counter[str] = collections.Counter()
        self.running = True

    def run(self) -> None:
        me = threading.get_ident()
        while self.running:
            for thread_id, frame in sys._current_frames().items():
                if thread_id != me:
                    self.take(frame)
            time.sleep(INTERVAL_S)

    def take(self, frame) -> None:
        names = []
        while frame is not None:
            code = frame.f_code
            names.append(f"{code.co_name} ({Path(code.co_filename).name}:{code.co_firstlineno})")
            frame = frame.f_back
        if not any(name.startswith(SCRIPT_FRAME + " ") for name in names):
            return
        self.samples += 1
        self.own[names[0]] += 1
        self.inclusive.update(set(names))

    def report(self) -> str:
        lines = [f"{self.samples} samples of script threads, every {INTERVAL_S * 1000:g} ms"]
        for title, counter in (("inclusive", self.inclusive), ("own", self.own)):
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
    from streamlit.web import cli

    try:
        cli.main(["run", *streamlit_args], standalone_mode=False)
    finally:
        if sampler.running:
            stop()


if __name__ == "__main__":
    main(sys.argv[1:])
