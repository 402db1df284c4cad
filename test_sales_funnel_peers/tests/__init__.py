from . import test_peer_suites
