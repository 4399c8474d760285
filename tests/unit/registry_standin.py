#!/usr/bin/env python3
# A stand-in of the Confluent Schema Registry REST API for the tests of the
# registry client (there is no Schema Registry package on Debian): serves
# GET /schemas/ids/{id} from a directory ({id}.avsc: an Avro schema, answered
# without schemaType as the registry does; {id}.json: a JSON Schema, answered
# with "schemaType": "JSON"), 404 with error_code 40403 for other ids, 401
# without the expected basic auth. Each request is logged to --log as
# "GET <path> auth=<Authorization or -> active=<requests not yet answered>".
import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file", required=True)
ap.add_argument("--schemas", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--user")
ap.add_argument("--password")
ap.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
args = ap.parse_args()

lock = threading.Lock()
active = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        global active
        with lock:
            active += 1
            with open(args.log, "a") as f:
                f.write("GET %s auth=%s active=%d\n"
                        % (self.path, self.headers.get("Authorization", "-"), active))
        time.sleep(args.delay)
        with lock:  # before answering: the client may start its next request at once
            active -= 1
        self.serve()

    def serve(self):
        if args.user is not None:
            import base64
            want = "Basic " + base64.b64encode(
                ("%s:%s" % (args.user, args.password)).encode()).decode()
            if self.headers.get("Authorization") != want:
                self.answer(401, {"error_code": 401, "message": "Unauthorized"})
                return
        m = re.fullmatch(r"/schemas/ids/(\d+)", self.path)
        if not m:
            self.answer(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
            return
        base = os.path.join(args.schemas, m.group(1))
        for ext, kind in ((".avsc", None), (".json", "JSON")):
            if os.path.exists(base + ext):
                with open(base + ext) as f:
                    obj = {"schema": f.read()}
                if kind:
                    obj["schemaType"] = kind
                self.answer(200, obj)
                return
        self.answer(404, {"error_code": 40403, "message": "Schema %s not found" % m.group(1)})


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
server.daemon_threads = True
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, args.port_file)
server.serve_forever()
