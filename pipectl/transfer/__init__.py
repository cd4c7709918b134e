"""Deals in and out: CSV reading, column mapping, row validation, import (one commit), export.

An import is validated whole before anything is written and lands as one commit; an export
is read-only. Nothing here prints or knows the screen.
"""
