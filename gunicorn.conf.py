"""gunicorn settings for the site (``gunicorn -c gunicorn.conf.py wsgi:app``)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's threaded worker, which gives a request to a thread only once it has fully arrived
# (website/gunicorn_worker.py): slow or idle connections wait in the worker's poller, not in a
# thread, so a few hundred of them do not starve real visitors (tests/site/test_slow_clients.py).
# Stock "gthread" lets each slow client hold a thread; sync workers would hold a whole process;
# gevent/eventlet would add a dependency and monkey-patching for the same effect.
worker_class = "website.gunicorn_worker.HeadFirstThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
# connections over them. On one shared socket, whichever worker wakes first accepts a burst of
# connections, and kept-alive connections stay where they landed: measured, 32 connections
# often all went to one worker while the other idled (bench/site.py ran at a third of the
# balanced rate). Only processes of the same user can bind the port alongside.
reuse_port = True
# Connections per worker (idle and slow ones included; the kernel's backlog queues the rest).
worker_connections = 1000
# A connection that sends nothing is closed after this many seconds (kept-alive ones too); a
# request must be complete 10 s after its first byte (gunicorn_worker.REQUEST_TIMEOUT).
keepalive = 5
# A worker whose threads are all stuck in one request for 30 s is restarted.
timeout = 30

# Access log (stdout unless ACCESS_LOG names a file) and error log (stderr unless ERROR_LOG
# names a file), both written through the site's masking logger: client addresses are truncated
# (in the error log's messages and tracebacks too) and user agents reduced before anything is
# written.
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = os.environ.get("ERROR_LOG", "-")
logger_class = "website.gunicorn_logging.MaskingLogger"

# gunicorn's run-time control socket (``gunicornc``) is not used: HUP/TERM signals manage the
# workers. Off, it is one management interface less, and several instances on one machine
# (tests, staging) do not contend for the same socket path.
control_socket_disable = True
