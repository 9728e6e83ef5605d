"""Mind-Links: the open platform for hiring contractors across borders."""

__version__ = "0.1.0"
