"""bankflow engine: the service layer over SpiffWorkflow and the database.

Nothing in this package imports Flask; entry points (CLI, web, worker) call the
service functions in this package and map `engine.errors` to their output.
"""
