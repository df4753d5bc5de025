"""Reading registers and rule views: labels, pages of rows, references, rule metadata."""
