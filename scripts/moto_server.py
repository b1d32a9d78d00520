"""moto's server, with DynamoDB requests handled one at a time.

DynamoDB applies a conditional write atomically: of two concurrent conditional updates of one
item, one fails its condition. moto's threaded server does not (its DynamoDB backend has no lock),
so two can both pass, and a test of "exactly once under concurrency" fails now and then for a
reason real DynamoDB does not have. Here DynamoDB requests are served one after another, as if
every write were atomic; Secrets Manager and everything else stay concurrent.

Usage: python moto_server.py HOST PORT
"""

import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class OneDynamoDBRequestAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # The whole answer is made inside the lock.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, OneDynamoDBRequestAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
