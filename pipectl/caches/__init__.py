"""Caches that make repeated read-only runs fast: the framed cache-file format (framed), parsed
deals by stage (deals), whole lint results (results), the history index's files (history) and
deal blobs parsed by their id for `--as-of` (blobs).

A cache is never trusted (a file that does not check out is a miss, never an error), never
committed (it lives in the git dir or the user's cache dir, never in the pipeline's tree) and
never required for a correct answer: with PIPECTL_NO_CACHE set, or any cache file deleted,
damaged or unwritable, every command gives the same output.
"""
