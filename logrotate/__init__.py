"""The log job: mask IP addresses and reduce user agents in web-server logs, purge old logs.

Run it as ``log-anonymiser`` (the console script of the installed project) or
``python -m logrotate``; see the README section "Log anonymiser". The masking itself lives in
the shared package ``privacy``.
"""
