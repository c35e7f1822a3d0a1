"""Read models: the SQL behind the analytics and the dashboard (`bankflow metrics`, the process pages,
the SLA board, the XES export, the simulator's view of the work), one class per reader on the unit of
work (`uow.metrics`, `uow.dashboard`, `uow.event_log`, `uow.simulator`), returning typed records."""
