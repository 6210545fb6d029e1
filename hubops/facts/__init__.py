"""Facts: typed values and the pure rules over them (environments, routing snapshots, verdicts,
plan summaries, forecasts, records, incidents). No I/O; imports only other facts."""
