"""Regression testing of a policy: cases run and checked, coverage, and what a change does.

* `suite`: each case evaluated at its as_of and its expectations checked; JUnit XML;
* `coverage`: which clauses fired and which conditions went both ways;
* `diff`: the obligations a policy change adds, removes or changes, per case.
"""
