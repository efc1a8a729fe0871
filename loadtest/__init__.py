"""`make load`: the portal's pages under 200 simulated people (locust, headless) against a
production-shaped stack of its own. See __main__.py (the run), seed.py (the people) and
locustfile.py (what they do). Never imported by pytest (testpaths is tests/)."""
