"""Coalition: the system of record for multinational security-assistance coordination."""

__version__ = "0.1.0"
