"""The log job: mask IP addresses and reduce user agents in web-server logs, purge old logs.

Run it as ``python -m logrotate``; see the README section "Log anonymiser".
"""
