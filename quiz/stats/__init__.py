"""Statistics for the administrator reports: pure figures (`figures.py`), what one assignment adds to
the summary tables (`contribution.py`), and keeping those tables in the database (`store.py`)."""
from .store import answer_recorded, rebuild, refresh_assignment

__all__ = ["answer_recorded", "rebuild", "refresh_assignment"]
