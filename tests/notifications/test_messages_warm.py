"""notifications.messages.messages_warm: what a worker loads before its pool forks, so that the
first shooting after a deploy does not wait for every sending thread to load it again."""

from django.conf import settings
from django.urls import clear_url_caches, reverse
from django.urls.resolvers import URLResolver
from django.utils.translation import override

from notifications.messages import messages_warm


def test_after_the_warm_up_a_message_link_in_any_language_builds_no_resolver_table(monkeypatch):
    clear_url_caches()  # a process that has reversed nothing yet
    messages_warm()
    builds = []
    populate = URLResolver._populate
    monkeypatch.setattr(URLResolver, "_populate", lambda self: builds.append(self) or populate(self))

    for code, _name in settings.LANGUAGES:
        with override(code):
            for name, kwargs in [("notifications:ack_link", {"token": "abc"}), ("responses:followups", {}),
                                 ("responses:incident", {"code": "6f0c3a52-4be8-4c33-9d43-7e1d9a7d5b10"})]:
                reverse(name, kwargs=kwargs)

    assert builds == []
