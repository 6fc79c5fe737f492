from tests.conftest import FIRST, PUBLISHED, copy_root  # noqa: F401  (shared with the tests here)
