from . import test_one_probability
from . import test_oca_suite
