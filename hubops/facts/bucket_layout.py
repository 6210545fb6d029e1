"""What hubops keeps in an environment's state bucket beside the state, in one place: the
backend's bootstrap sets rules on these prefixes and the stores write under them."""

# Run records, one object per run under RECORDS_PREFIX/ENV/ (hubops.adapters.records).
RECORDS_PREFIX = "hubops-records"
# Reviewed plans under PLANS_PREFIX/ENV/, expired by a lifecycle rule (hubops.flows.reviewed_plan).
PLANS_PREFIX = "plans"
