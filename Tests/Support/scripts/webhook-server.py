#!/usr/bin/env python3
"""A webhook receiver for the tests: records every request as one JSON line, answers with the
status in DIR/status (200 when absent). Usage: webhook-server.py DIR; writes its port to DIR/port."""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]


class Handler(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        record = {"method": self.command, "path": self.path, "body": body,
                  "content_type": self.headers.get("Content-Type")}
        with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
        status = 200
        try:
            with open(os.path.join(DIR, "status")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        # Like many servers, a refusal echoes the path (which holds the hook's token).
        answer = {"ok": True} if status < 300 else {"ok": False, "description": "refused " + self.path}
        self.wfile.write(json.dumps(answer).encode())

    do_POST = answer
    do_GET = answer

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
