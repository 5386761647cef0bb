"""`clause serve`: the worklist, children, explanations and the compliance report in a browser.

source.py (what is served, re-read on change), security.py (read-only, token, headers),
app.py (routes and templates), explain.py (a child's page); templates/ and static/ are
package data: the pages need nothing from the network.
"""
