"""Compatibility shim: user-agent reduction lives in ``privacy.useragent``."""

from privacy.useragent import MAX_USER_AGENT_CHARS, ReducedUserAgent, reduce_user_agent

__all__ = ["MAX_USER_AGENT_CHARS", "ReducedUserAgent", "reduce_user_agent"]
