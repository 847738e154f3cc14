"""Privacy primitives shared by the site and the log job, free of any framework.

* ``privacy.ipmask``: truncate one address (``mask_ip``) or every address in a text;
* ``privacy.useragent``: reduce a User-Agent header to browser, OS and device class.

The text masker has a compiled core (``privacy._core``, a C extension) and a pure-Python
reference (``privacy._pycore``); ``privacy.ipmask.CORE`` names the one in use.
"""

__version__ = "0.2.0"
