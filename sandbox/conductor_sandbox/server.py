"""The sandbox's HTTP server: cheroot, HTTP/1.1 with keep-alive, as the real APIs answer.

werkzeug's development server closes every connection (``Connection: close``), so every request paid
a new TCP (and TLS) connection that no real tenant makes a client pay. cheroot keeps connections open
between requests and parks idle ones outside its worker threads.
"""

import errno

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

#: Worker threads: the collection's highest ``parallelism`` (64) in flight at once, and room for the
#: tests' own clients beside it.
THREADS = 80
#: Seconds a kept-alive connection may sit idle; a load balancer in front of a real API allows 60.
IDLE_SECONDS = 60


def drop_connection():
    """Close the current connection unanswered (a lost answer): cheroot closes a connection whose
    request raised a connection error, without writing a response."""
    raise ConnectionAbortedError(errno.ECONNABORTED, "the sandbox drops this connection unanswered")


def decoded_slashes(app):
    """cheroot leaves ``%2F`` encoded in PATH_INFO (WSGI servers decode it, as werkzeug's did): a client
    ID in a path (``name@host/wfe``) reaches the routes decoded either way."""
    def wsgi_app(environ, start_response):
        environ["PATH_INFO"] = environ.get("PATH_INFO", "").replace("%2F", "/")
        return app(environ, start_response)
    return wsgi_app


class Server(object):
    """``app`` served on ``host:port`` (0 picks a free port), HTTPS when ``tls`` is ``(cert, key)``."""

    def __init__(self, host, port, app, tls=None):
        self.http = wsgi.Server((host, port), decoded_slashes(app), numthreads=THREADS, timeout=IDLE_SECONDS,
                                server_name="conductor-sandbox")
        if tls:
            self.http.ssl_adapter = BuiltinSSLAdapter(*tls)
        self.http.prepare()  # binds now: the port is known before the first request is served

    @property
    def port(self):
        return self.http.bind_addr[1]

    def serve_forever(self):
        self.http.serve()

    def shutdown(self):
        self.http.stop()
