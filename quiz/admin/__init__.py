"""The administrator pages (`/admin/...`): staff accounts, units, the audit log and the question
bank's status. Access is decided once, in `routes.require_admin`."""
