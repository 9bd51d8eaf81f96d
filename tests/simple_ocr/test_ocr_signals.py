"""SIGTERM and SIGINT stop a service however they come: the signal handler takes no lock (the stop event is set by a
thread), so a signal that comes while the main thread holds the stop event's lock - inside its wait, or inside an
earlier handler, when a supervisor sends SIGTERM twice - cannot deadlock the service."""
import signal
import subprocess
import sys

from ocr_testkit import APP_DIR, camera_url, processor_env, wait_until

HOLDS_THE_LOCK = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from simple_ocr.common.lifecycle import stop_event_on_signals
stop = stop_event_on_signals()
with stop._cond:  # the main thread holds the event's lock, as inside Event.wait() or an earlier handler's set()
    os.kill(os.getpid(), signal.SIGTERM)
    sum(range(100000))  # the handler runs here, between two bytecodes
print("the handler returned", flush=True)
print("stopped" if stop.wait(10) else "not stopped", flush=True)
"""


def test_a_signal_while_the_main_thread_holds_the_stop_events_lock_stops_the_service():
    # The handler used to set the event itself: here it waited for the lock its own thread held, forever.
    done = subprocess.run([sys.executable, "-c", HOLDS_THE_LOCK, str(APP_DIR)], capture_output=True, text=True,
                          timeout=15)
    assert done.stdout.splitlines() == ["the handler returned", "stopped"], done.stdout + done.stderr
    assert done.returncode == 0


def test_a_processor_stopped_while_frames_flow_exits_0_by_one_sigterm_or_two(tmp_path, redis_server, start_service,
                                                                           camera_env):
    """Each stop comes while the stream reader is inside OpenCV's read: the Processor waits for the reader before it
    exits (a reader left running came back during the interpreter's finalization: SIGABRT, 'FATAL: exception not
    rethrown', about one stop in three). Every other stop is two SIGTERMs at once, as a supervisor may send."""
    start_service("camera", **camera_env)
    codes = []
    for run in range(6):
        # A health port picked for this run: one kept over the six runs was taken in between by another socket of
        # the machine (its ephemeral port), once in a CI run ('cannot_listen ... Address already in use').
        env = processor_env(tmp_path, "cam1", camera_url(camera_env), redis_server.url)
        processor = start_service("processor", log_name="processor-%d" % run, **env)
        wait_until(lambda: processor.events("stream_connected"), 60, "the Processor to read the stream")
        if run % 2:
            processor.process.send_signal(signal.SIGTERM)
        codes.append(processor.stop())  # SIGTERM (right after the first, every other run)
    assert codes == [0] * 6
