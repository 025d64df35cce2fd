"""Review of inspections: decisions, comments, corrected resubmissions and objections."""
