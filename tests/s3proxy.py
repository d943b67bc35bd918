#!/usr/bin/env python3
"""s3proxy: a fault-injecting HTTP proxy for testing S3 clients on loopback.

  python3 tests/s3proxy.py --upstream http://127.0.0.1:7480 [--port 0]
      [--port-file FILE] [--seed N] [--fail-rate P] [--drop-rate P]
      [--cut-rate P] [--delay-rate P --delay-ms MS] [--fail-status 500,503]
      [--only METHODS] [--after N] [--hard] [--log FILE]

It listens on 127.0.0.1:PORT (0: a free port, written to --port-file once
listening) and forwards every request to the upstream unchanged: method,
path, query and headers, Host and Expect included, so SigV4 signatures made
for the proxy's address still hold for a path-style gateway.  Bodies are
streamed both ways, with Content-Length or chunked; client connections are
kept alive, each with its own upstream connection, kept alive too.  A deferred
"Expect: 100-continue" is answered when the proxy starts reading the body.

Each request that matches --only (all methods by default) and comes after
the first --after requests draws one fault from a seeded RNG:
  fail   answer a status from --fail-status (500, 503, 429...) with an
         S3-style XML error, without forwarding; the body is read and
         discarded, or, if the client awaits 100-continue, the connection
         is closed after the answer instead;
  drop   close the connection without answering: before reading the body,
         after reading it (not forwarded), or after forwarding it (the
         upstream acted, its answer is lost), a third of each;
  cut    forward, then send the status and headers (full Content-Length) but
         only part of the body (chunked: no last chunk) and close; for an
         empty body (HEAD, most PUTs), close without answering;
  delay  sleep --delay-ms before forwarding.
--hard gives every such request the first kind, in that order, that has a
rate (fail if none has); otherwise the rates, which must add up to at most
1, are exclusive: one draw picks at most one fault per request.

--log FILE gets one line per request, flushed:
  METHOD PATH?QUERY STATUS BYTES_IN BYTES_OUT FAULT
STATUS is what the proxy sent, or the upstream's when a drop lost it, '-' for
none; bytes count bodies only; FAULT is fail, drop, cut, delay or '-'.
SIGTERM or SIGINT prints a summary to stderr and exits 0.
"""
import argparse, collections, http.client, http.server, os, random, select
import signal, sys, threading, time, urllib.parse

KINDS = ("fail", "drop", "cut", "delay")
# Headers that are about one connection, not forwarded; a response's
# Transfer-Encoding is redone by the proxy, a request's body is kept as sent.
REQ_SKIP = {"connection", "keep-alive", "proxy-connection"}
RESP_SKIP = REQ_SKIP | {"transfer-encoding"}
CODES = {500: "InternalError", 503: "SlowDown", 429: "TooManyRequests"}
BLOCK = 1 << 16


class ClientGone(Exception):
    pass


class State:
    def __init__(self, a):
        self.a, self.rng, self.lock = a, random.Random(a.seed), threading.Lock()
        self.n = 0
        self.methods, self.faults = collections.Counter(), collections.Counter()
        self.bytes_in = self.bytes_out = 0
        self.log = open(a.log, "a") if a.log else None

    def decide(self, method):
        """Numbers the request; returns (n, fault kind or None, aux in [0,1))."""
        a = self.a
        with self.lock:
            self.n += 1
            self.methods[method] += 1
            if self.n <= a.after or (a.only and method not in a.only):
                return self.n, None, 0.0
            roll, aux = self.rng.random(), self.rng.random()
            rates = [(k, getattr(a, k + "_rate")) for k in KINDS]
            kind = None
            if a.hard:
                kind = next((k for k, r in rates if r > 0), "fail")
            else:
                for k, r in rates:
                    if roll < r:
                        kind = k
                        break
                    roll -= r
            if kind:
                self.faults[kind] += 1
            return self.n, kind, aux

    def record(self, method, target, status, bin_, bout, kind):
        with self.lock:
            self.bytes_in += bin_
            self.bytes_out += bout
            if self.log:
                self.log.write("%s %s %s %d %d %s\n" % (
                    method, target, status, bin_, bout, kind or "-"))
                self.log.flush()

    def summary(self):
        with self.lock:
            out = ["s3proxy: %d requests" % self.n]
            out += ["  %s %d" % kv for kv in sorted(self.methods.items())]
            out.append("s3proxy: faults " + " ".join(
                "%s=%d" % (k, self.faults[k]) for k in KINDS))
            out.append("s3proxy: bytes in %d, out %d" % (self.bytes_in, self.bytes_out))
        return "\n".join(out) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    expect_pending = False
    up = None           # the upstream connection of this client connection

    def finish(self):
        self.drop_upstream()
        super().finish()

    def drop_upstream(self):
        if self.up:
            self.up.close()
            self.up = None

    def log_message(self, *args):
        pass

    def handle_expect_100(self):
        self.expect_pending = True     # answered in body_chunks(), if at all
        return True

    def body_chunks(self):
        """Yields the request body as raw wire bytes (chunked kept as is)
        and its payload size so far."""
        if self.expect_pending:
            self.expect_pending = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(BLOCK)
                size = int(line.split(b";")[0].strip() or b"x", 16)
                yield line, 0
                if size == 0:
                    while True:         # trailers, up to the empty line
                        line = self.rfile.readline(BLOCK)
                        yield line, 0
                        if line in (b"\r\n", b"\n", b""):
                            return
                left = size
                while left:
                    data = self.rfile.read(min(left, BLOCK))
                    if not data:
                        raise ClientGone()
                    left -= len(data)
                    yield data, len(data)
                yield self.rfile.readline(BLOCK), 0
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, BLOCK))
                if not data:
                    raise ClientGone()
                left -= len(data)
                yield data, len(data)

    def discard_body(self):
        return sum(n for _, n in self.body_chunks())

    def answer(self, status, xml=b"", close=False):
        body = b"" if self.command == "HEAD" else xml
        self.send_response_only(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(xml)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        return len(body)

    def forward(self):
        """Sends the request upstream; returns (connection, response, bytes in)."""
        conn = self.up      # kept alive unless closed or readable (EOF) since
        if conn and (not conn.sock or select.select([conn.sock], [], [], 0)[0]):
            self.drop_upstream()
        if not self.up:
            u = self.server.upstream
            self.up = http.client.HTTPConnection(u.hostname, u.port or 80,
                                                 timeout=300)
        conn = self.up
        conn.putrequest(self.command, self.path, skip_host=True,
                        skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in REQ_SKIP:
                conn.putheader(k, v)
        conn.endheaders()
        n = 0
        for data, size in self.body_chunks():
            n += size
            try:
                conn.send(data)
            except OSError:     # the upstream may have answered early, closed
                self.close_connection = True
                break
        return conn.getresponse(), n

    def proxy(self):
        st, a = self.server.state, self.server.state.a
        method, target = self.command, self.path
        seq, kind, aux = st.decide(method)
        status, bin_, bout = "-", 0, 0
        clean = True        # the upstream connection can serve another request
        try:
            if kind == "delay":
                time.sleep(a.delay_ms / 1000.0)
            if kind == "fail":
                code = a.fail_status[int(aux * len(a.fail_status))]
                xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s"
                       "</Code><Message>injected by s3proxy</Message><RequestId>"
                       "s3proxy-%d</RequestId></Error>" % (
                           CODES.get(code, "InjectedFault"), seq)).encode()
                close = self.expect_pending
                if not close:
                    bin_ = self.discard_body()
                status, bout = code, self.answer(code, xml, close)
                self.close_connection = self.close_connection or close
                return
            if kind == "drop" and aux < 2 / 3:
                if aux >= 1 / 3:
                    bin_ = self.discard_body()
                self.close_connection = True
                return
            clean = False
            try:
                resp, bin_ = self.forward()
            except (OSError, http.client.HTTPException) as e:
                self.close_connection = True
                status = 502
                bout = self.answer(502, b"<Error><Code>BadGateway</Code><Message>"
                                   + str(e).encode() + b"</Message></Error>", True)
                return
            status = resp.status
            if kind == "drop":
                self.close_connection = True
                return
            chunked = resp.chunked and method != "HEAD"
            length = resp.length        # None: chunked or until close
            if length is None and not chunked and method != "HEAD" \
                    and status not in (204, 304):
                self.close_connection = True
            limit = None
            if kind == "cut":
                self.close_connection = True
                if method == "HEAD" or length == 0:
                    status = "-"
                    return
                limit = int(aux * (BLOCK if length is None else length))
            self.send_response_only(status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in RESP_SKIP:
                    self.send_header(k, v)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            while limit is None or bout < limit:
                data = resp.read(BLOCK if limit is None else min(BLOCK, limit - bout))
                if not data:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data)
                                 if chunked else data)
                bout += len(data)
            if chunked and kind != "cut":
                self.wfile.write(b"0\r\n\r\n")
            clean = kind != "cut"
        except (OSError, ValueError, ClientGone, http.client.HTTPException):
            self.close_connection = True
        finally:
            self.expect_pending = False
            if not clean:
                self.drop_upstream()
            st.record(method, target, status, bin_, bout, kind)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = proxy


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    p = argparse.ArgumentParser(description="Fault-injecting proxy for S3.")
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--seed", type=int, default=0)
    for k in KINDS:
        p.add_argument("--%s-rate" % k, type=float, default=0.0)
    p.add_argument("--delay-ms", type=int, default=1000)
    p.add_argument("--fail-status", default="500,503")
    p.add_argument("--only", default="")
    p.add_argument("--after", type=int, default=0)
    p.add_argument("--hard", action="store_true")
    p.add_argument("--log")
    a = p.parse_args()
    a.fail_status = [int(s) for s in a.fail_status.split(",") if s]
    a.only = {m.strip().upper() for m in a.only.split(",") if m.strip()}
    if sum(getattr(a, k + "_rate") for k in KINDS) > 1 or not a.fail_status:
        p.error("the rates add up to more than 1, or no --fail-status")
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.upstream = urllib.parse.urlsplit(a.upstream)
    srv.state = State(a)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, a.port_file)

    def stop(signum, frame):
        sys.stderr.write(srv.state.summary())
        sys.stderr.flush()
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()


if __name__ == "__main__":
    main()
