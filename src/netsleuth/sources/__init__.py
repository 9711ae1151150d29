"""Sources: files, cluster dumps, the live API and node artifacts, into one model."""

from netsleuth.sources.load import decode_all, load_live, load_offline, load_source

__all__ = ["decode_all", "load_live", "load_offline", "load_source"]
