"""The event feed: every money movement appends an event in the transaction that moves the money.

Readers page by a cursor over (transaction id, event id), and only ever see events of
transactions older than every transaction still running (`pg_snapshot_xmin` of the reader's
snapshot). A writer that took an event id and has not committed yet holds that horizon back, so
its event can never appear behind a cursor that was already handed out: nothing is skipped and
nothing repeated, with no counter row for writers to queue on. Events hold facts only (who, what,
how much, when), never large payloads.
"""
