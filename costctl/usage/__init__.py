"""Spend-log readers (csv, jsonl, json; gzip; stdin) and the one record shape they produce."""

from costctl.usage.readers import READERS, Source, open_source, read_rows
from costctl.usage.record import SpendRow

__all__ = ["READERS", "Source", "SpendRow", "open_source", "read_rows"]
