"""Everything that knows a screen or a page: text tables, the board, agenda, sweep, report
views, and the self-contained HTML dashboard with its SVG charts.

Takes the core's values and returns strings; never reads files, runs git or changes a deal.
"""
