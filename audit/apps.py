from importlib import import_module

from django.apps import AppConfig
from django.contrib.auth import signals


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self):
        # audit.services imports the models, which cannot load before the app registry is ready,
        # so it is loaded by name here (as Django's own autodiscovery loads modules); it imports
        # nothing above audit (tests/test_layering.py reads its imports like any other module's).
        services = import_module(f"{self.name}.services")
        # Sign-in events come from Django's own signals, whichever login view sent them (the
        # portal's, the admin's, the API token endpoint's, a two-factor step's).
        signals.user_logged_in.connect(services.login_recorded, dispatch_uid="audit.login")
        signals.user_logged_out.connect(services.logout_recorded, dispatch_uid="audit.logout")
        signals.user_login_failed.connect(services.login_failure_recorded, dispatch_uid="audit.login_failed")
