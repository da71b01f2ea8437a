"""What a config change does: deployments added, removed or repriced (changes.py), and the bill
under each config (projection.py; sql_projection.py the same in SQL for large files)."""

from costctl.diff.changes import Change, FieldChange, changes, field_changes, field_changes_from_nothing, match
from costctl.diff.projection import GroupProjection, Projection, Projector

__all__ = ["Change", "FieldChange", "GroupProjection", "Projection", "Projector", "changes", "field_changes",
           "field_changes_from_nothing", "match"]
