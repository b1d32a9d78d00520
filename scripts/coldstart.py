#!/usr/bin/env python3
"""Cold start of each Lambda function against a hello-world floor (`scripts/coldstart` builds them).

Each run starts one function's release binary (built for this host) under a stand-in for the Lambda
Runtime API on loopback, hands it one sample event from events/, and measures from the process's
spawn: init (its first `GET /runtime/invocation/next`) and first response (its `POST …/response`),
then reads its peak RSS (VmHWM) before stopping it. The same server answers any other request as an
AWS service that has no such table or secret (HTTP 400, `ResourceNotFoundException`), so a
function's first invocation makes its AWS calls, quickly and without retries. Runs are interleaved
(A B C … A B C …) so drift on the machine falls on every function alike. No timed assertion
anywhere: this prints a table for the README.

    scripts/coldstart [--runs 7]
"""
import argparse
import http.server
import json
import os
import pathlib
import statistics
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
FLOOR = "coldstart-hello"
# (package, sample event): the floor first, then every function.
FUNCTIONS = [
    (FLOOR, "escalate.json"),
    ("escalate", "escalate.json"),
    ("status", "status-ticket.json"),
    ("zendesk-webhook", "webhook-status-changed.json"),
    ("connection", "connection-get.json"),
    ("oauth-callback", "oauth-callback.json"),
    ("token-refresh", "token-refresh.json"),
    ("sweeper", "sweeper.json"),
]
API = "/2018-06-01/runtime"


class Run:
    """One cold start: the times the stand-in saw, from the spawn."""

    def __init__(self, event: bytes):
        self.event = event
        self.started = 0.0
        self.init = None
        self.responded = None
        self.status = None
        self.answered = threading.Event()


def handler_for(run: Run):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def reply(self, code, body=b"", headers=()):
            try:
                self.send_response(code)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the run ended and the process was stopped while it waited

        def do_GET(self):
            if self.path == f"{API}/invocation/next":
                if run.init is None:
                    run.init = time.perf_counter() - run.started
                    deadline = int((time.time() + 30) * 1000)
                    self.reply(200, run.event, [
                        ("Lambda-Runtime-Aws-Request-Id", "coldstart-1"),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:coldstart"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                        ("Content-Type", "application/json"),
                    ])
                else:
                    run.answered.wait(30)  # the next invocation never comes; the run ends first
                    self.reply(500)
                return
            self.aws_missing()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.startswith(f"{API}/invocation/") or self.path.startswith(f"{API}/init/error"):
                run.responded = time.perf_counter() - run.started
                run.status = self.path.rsplit("/", 1)[-1]
                try:
                    answer = json.loads(body or b"{}")
                    if isinstance(answer, dict) and "statusCode" in answer:
                        run.status += f" {answer['statusCode']}"
                except ValueError:
                    pass
                self.reply(202, b"{}", [("Content-Type", "application/json")])
                run.answered.set()
                return
            self.aws_missing()

        def aws_missing(self):
            body = json.dumps({"__type": "ResourceNotFoundException", "message": "coldstart stand-in: nothing here"}).encode()
            self.reply(400, body, [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", "ResourceNotFoundException")])

    return Handler


def peak_rss_mb(pid: int):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_once(package: str, event_file: str):
    run = Run((ROOT / "events" / event_file).read_bytes())
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(run))
    server.daemon_threads = True
    server.handle_error = lambda *_: None  # a stopped process drops its connection; not news
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": address,
        "AWS_LAMBDA_FUNCTION_NAME": package,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
        "AWS_LAMBDA_LOG_GROUP_NAME": "coldstart",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "coldstart",
        "AWS_SECRET_ACCESS_KEY": "coldstart",
        "AWS_ENDPOINT_URL": f"http://{address}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "HANDOFF_TABLE": "handoff",
        "HANDOFF_SECRET_PREFIX": "handoff/",
        "HANDOFF_PUBLIC_BASE_URL": "https://api.handoff.example.com",
        "RUST_LOG": "warn",
    }
    binary = TARGET / "release" / package
    run.started = time.perf_counter()
    process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answered = run.answered.wait(30)
    rss = peak_rss_mb(process.pid) if answered else None
    process.kill()
    process.wait()
    server.shutdown()
    server.server_close()
    return run, rss


def zip_mb(package: str):
    path = TARGET / "lambda" / package / "bootstrap.zip"
    return path.stat().st_size / 1e6 if path.exists() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs per function (default 7)")
    parser.add_argument("--only", nargs="+", metavar="FUNCTION", help="these functions (and the floor) only")
    args = parser.parse_args()
    chosen = [(p, e) for p, e in FUNCTIONS if p == FLOOR or not args.only or p in args.only]
    results = {package: [] for package, _ in chosen}
    for _ in range(args.runs):
        for package, event in chosen:
            results[package].append(run_once(package, event))
    floor = statistics.median(r.init for r, _ in results[FLOOR] if r.init is not None)
    print(f"{args.runs} interleaved runs each; times from the process's spawn, in ms; this host's release builds\n")
    print("| function | init median (min–max) | × floor | first response median | answer | peak RSS | arm64 zip |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for package, _ in chosen:
        runs = [r for r, _ in results[package]]
        inits = [r.init * 1000 for r in runs if r.init is not None]
        firsts = [r.responded * 1000 for r in runs if r.responded is not None]
        rss = [m for _, m in results[package] if m is not None]
        statuses = sorted({r.status or "none" for r in runs})
        size = zip_mb(package)
        if not inits:
            print(f"| {package} | never asked for an event | | | {', '.join(statuses)} | | |")
            continue
        print(
            f"| {package} | {statistics.median(inits):.1f} ({min(inits):.1f}–{max(inits):.1f}) "
            f"| {statistics.median(inits) / (floor * 1000):.1f}× "
            f"| {statistics.median(firsts):.1f} | {', '.join(statuses)} "
            f"| {max(rss):.1f} MB | {f'{size:.2f} MB' if size else '—'} |"
            if firsts and rss else f"| {package} | {statistics.median(inits):.1f} | | no answer | {', '.join(statuses)} | | |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
