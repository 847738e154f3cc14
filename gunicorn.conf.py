"""gunicorn settings for the site (``gunicorn -c gunicorn.conf.py wsgi:app``)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

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
