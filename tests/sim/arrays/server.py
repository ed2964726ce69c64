"""The array simulator's HTTPS server: one listening port per simulated array, each
answering with its vendor personality (vendor_<name>.py) over the shared model.

Per request: /_sim/* control paths first (no auth); then the first armed fault
that matches (model.take_fault); then the personality's handler, run under the
model's lock so a request is one atomic change; then the fabric is reconciled and
the request is logged.

TLS is done in the connection's own thread (a slow or failed handshake never
blocks the accept loop). HTTP/1.1 keep-alive is on: clients can reuse connections,
and the number of connections accepted per array is counted in the model.
"""
import http.server
import json
import socket
import sys
import ssl
import threading
import time
import urllib.parse

import model

CONTROL_PREFIX = "/_sim/"
BODY_MAX = 1 << 20


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        parts = urllib.parse.urlsplit(target)
        self.path = urllib.parse.unquote(parts.path)
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.json = None
        if body:
            try:
                self.json = json.loads(body)
            except ValueError:
                self.json = None

    def q(self, key):
        v = self.query.get(key)
        return v[0] if v else None

    def header(self, name):
        return self.headers.get(name)

    def basic_auth(self):
        import base64
        h = self.headers.get("Authorization") or ""
        if not h.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(h[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user, password


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "simarray/1"

    def log_message(self, fmt, *args):  # quiet: the model keeps a request log
        pass

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > BODY_MAX:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, headers, body, content_type="application/json"):
        # bytes are sent as they are (an HTML or plain-text error page), with the
        # personality's own Content-Type header when it gives one
        if isinstance(body, bytes):
            data = body
        else:
            data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        if not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", content_type)
        if str(headers.get("Transfer-Encoding", "")).lower() == "chunked":
            # a personality that streams its collections (3PAR WSAPI) asks for this
            data = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 1024]), data[i:i + 1024])
                            for i in range(0, len(data), 1024)) + b"0\r\n\r\n"
        else:
            self.send_header("Content-Length", str(len(data)))
        # headers and body in one write (end_headers alone would send them apart)
        self._headers_buffer.append(b"\r\n" + data)
        self.flush_headers()

    def _drop(self):
        """Close the connection without a byte of response."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _dispatch(self):
        srv = self.server
        try:
            body = self._read_body()
        except ValueError:
            self._send(413, {}, {"error": "body too large"})
            return
        req = Request(self.command, self.path, self.headers, body)
        if req.path.startswith(CONTROL_PREFIX):
            self._control(req)
            return
        with srv.store.locked() as st:
            fault = model.take_fault(st, srv.array_name, req.method, req.target)
            if fault and fault["action"] == "status":
                srv.store.log_request(srv.array_name, req.method, req.target, fault["status"],
                                      fault["id"])
        if fault:
            action = fault["action"]
            if action == "latency":
                time.sleep(fault.get("delay_ms", 1000) / 1000.0)
            elif action == "drop":
                with srv.store.locked():
                    srv.store.log_request(srv.array_name, req.method, req.target, None,
                                          fault["id"])
                self._drop()
                return
            elif action == "status":
                headers = {}
                if fault.get("retry_after") is not None:
                    headers["Retry-After"] = fault["retry_after"]
                message = fault.get("message") or "Injected fault."
                self._send(fault["status"], headers, srv.vendor.error_body(fault["status"], message),
                           srv.content_type)
                return
        with srv.store.locked() as st:
            arr = st["arrays"][srv.array_name]
            if fault and fault["action"] == "expire_session":
                if not srv.vendor.expire_sessions(arr):
                    srv.store.log_request(srv.array_name, req.method, req.target, 401,
                                          fault["id"])
                    status, headers, out = 401, {}, srv.vendor.error_body(401, "Session expired.")
                    fault = None  # answered below like a normal response
                else:
                    status, headers, out = srv.vendor.handle(req, arr, st)
            else:
                status, headers, out = srv.vendor.handle(req, arr, st)
            srv.store.log_request(srv.array_name, req.method, req.target, status,
                                  fault["id"] if fault else None)
        if fault and fault["action"] == "lose_response":
            self._drop()
            return
        self._send(status, headers, out, srv.content_type)

    def _control(self, req):
        store = self.server.store
        try:
            if req.method == "GET" and req.path == "/_sim/state":
                self._send(200, {}, store.read())
            elif req.method == "POST" and req.path == "/_sim/seed":
                import simarray
                with store.locked() as st:
                    simarray.seed_state(st, req.json or {}, store.root)
                self._send(200, {}, {"ok": True})
            elif req.method == "POST" and req.path == "/_sim/faults":
                with store.locked() as st:
                    added = model.add_faults(st, (req.json or {}).get("faults", []))
                self._send(200, {}, {"faults": added})
            elif req.method == "DELETE" and req.path == "/_sim/faults":
                with store.locked() as st:
                    st["faults"] = []
                self._send(200, {}, {"ok": True})
            else:
                self._send(404, {}, {"error": "unknown control path"})
        except (ValueError, KeyError, TypeError) as e:
            self._send(400, {}, {"error": str(e)})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class ArrayServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store, array_name, vendor, tls_context):
        self.store = store
        self.array_name = array_name
        self.vendor = vendor
        self.tls_context = tls_context
        self.content_type = getattr(vendor, "CONTENT_TYPE", "application/json")
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address):
        # A client that gave up (timeout test) or a dropped connection is expected.
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)

    def finish_request(self, request, client_address):
        with self.store.locked() as st:
            st["arrays"][self.array_name]["connections"] = \
                st["arrays"][self.array_name].get("connections", 0) + 1
        try:
            request.settimeout(30)
            # one segment per answer: no Nagle / delayed-ACK stalls on kept-alive connections
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def serve(store, arrays, vendors, cert_file, key_file):
    """Starts one server thread per array; returns the servers (ports in .server_port)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert_file, key_file)
    servers = []
    for name in arrays:
        srv = ArrayServer(store, name, vendors[name], ctx)
        with store.locked() as st:
            st["arrays"][name]["port"] = srv.server_port
        threading.Thread(target=srv.serve_forever, name=f"array-{name}", daemon=True).start()
        servers.append(srv)
    return servers
