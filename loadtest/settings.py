"""The portal's production settings, with one change for the load test's stack: passwords are
hashed with a 1,000-iteration PBKDF2 instead of 1,500,000. A production sign-in costs ~0.3 s of
CPU by design; 200 people signing in within a minute on two cores would be the whole test, and
signing in is not what it measures. Everything else is cvi_portal.settings as `make stack` runs it.
"""

from django.conf.global_settings import PASSWORD_HASHERS as _PRODUCTION_HASHERS
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from cvi_portal.settings import *  # noqa: F403


class LoadTestPasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_loadtest"
    iterations = 1000


PASSWORD_HASHERS = ["loadtest.settings.LoadTestPasswordHasher", *_PRODUCTION_HASHERS]
