"""The question bank: reading and validating YAML files (`loader`), checking citations (`citations`)
and storing a valid bank in the database as versions (`sync`); the served bank kept in memory per process
(`snapshot`). No Flask views live here."""
from . import snapshot  # noqa: F401  (registers the hook that marks every bank change)
from .loader import Bank, BankError, Problem, load_bank
from .sync import SyncReport, sync_bank

__all__ = ["Bank", "BankError", "Problem", "SyncReport", "load_bank", "sync_bank"]
