"""The shared kit on the bottom floor: Chicago time and month boundaries, base domain
exceptions, small-count suppression and the API kit every app's `api.py` builds on.
Imports no app of the portal (the layering test checks it)."""
