"""Compatibility shim: the masking code lives in ``privacy.ipmask``."""

from privacy.ipmask import DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, TextMasker, mask_ip

__all__ = ["DEFAULT_IPV4_PREFIX", "DEFAULT_IPV6_PREFIX", "TextMasker", "mask_ip"]
