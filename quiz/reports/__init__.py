"""Administrator reports: dashboard, item analysis, question pages and CSV exports (`/admin/reports/`)."""
