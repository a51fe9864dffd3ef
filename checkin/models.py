"""Door check-in (scan log, offline sync) arrives with the check-in issue."""
