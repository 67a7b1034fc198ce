"""The question bank: reading and validating YAML files (`loader`), checking citations (`citations`)
and storing a valid bank in the database as versions (`sync`). No Flask views live here."""
from .loader import Bank, BankError, Problem, load_bank
from .sync import SyncReport, sync_bank

__all__ = ["Bank", "BankError", "Problem", "SyncReport", "load_bank", "sync_bank"]
