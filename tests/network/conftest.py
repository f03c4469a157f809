"""The network scenarios share one consortium network and one set of members for the session: the
fixtures are declared here, once, so that every module gets the same instance (a fixture imported into
each module is a fixture of each module, and each would start a network of its own)."""

from tests.support.network import consortium_members, consortium_network  # noqa: F401
