"""The day's views and actions: the board, a rep's agenda, and the sweep of dead leads.

Board and agenda are pure functions over loaded deals; the sweep is the one changing use case
here (one commit per run, through `ops` and `store`). Thresholds come from lint's settings, so
these views and `pipectl lint` agree. Nothing here prints: render/ lays the values out.
"""
