"""gunicorn settings for the site (``gunicorn -c gunicorn.conf.py wsgi:app``)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Access log (stdout unless ACCESS_LOG names a file): written through the log job's masking
# logger, so client addresses are truncated and user agents reduced before anything is written.
accesslog = os.environ.get("ACCESS_LOG", "-")
logger_class = "logrotate.gunicorn_logger.MaskingLogger"
